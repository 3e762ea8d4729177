package scheduler

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Cache holds NodeInfos between decisions so that each decision costs
// O(nodes) filters and scores, not a rebuild. Not safe for concurrent use;
// its owner is one scheduling loop.
type Cache struct {
	infos  []*NodeInfo
	byName map[string]*NodeInfo
	// Sample limits each decision to NumFeasibleToFind(nodes) fitting
	// nodes, starting where the last decision stopped.
	Sample bool
	next   int
	buf    []scored
}

// NewCache builds a cache of nodes with pods placed on them.
func NewCache(nodes []*corev1.Node, pods []*corev1.Pod) *Cache {
	c := &Cache{infos: BuildNodeInfos(nodes, pods), byName: map[string]*NodeInfo{}}
	for _, ni := range c.infos {
		c.byName[ni.Node.Name] = ni
	}
	return c
}

// AddNode adds (or replaces) a node, keeping the pods accounted to it.
func (c *Cache) AddNode(n *corev1.Node) {
	ni := NewNodeInfo(n)
	if old := c.byName[n.Name]; old != nil {
		for _, p := range old.Pods {
			ni.AddPod(p)
		}
		*old = *ni
		return
	}
	c.byName[n.Name] = ni
	c.infos = append(c.infos, ni)
	sort.Slice(c.infos, func(i, j int) bool { return c.infos[i].Node.Name < c.infos[j].Node.Name })
}

// Assume accounts p (already given its node) before the binding is seen.
func (c *Cache) Assume(p *corev1.Pod) {
	if ni := c.byName[p.Spec.NodeName]; ni != nil {
		ni.AddPod(p)
	}
}

// Forget undoes Assume (a binding failed).
func (c *Cache) Forget(p *corev1.Pod) {
	if ni := c.byName[p.Spec.NodeName]; ni != nil {
		ni.RemovePod(p)
	}
}

// Nodes is the number of nodes cached.
func (c *Cache) Nodes() int { return len(c.infos) }

// Schedule decides for p on the cached state; it does not assume p.
func (c *Cache) Schedule(p *corev1.Pod) (Decision, *FitError) {
	opts := Options{}
	if c.Sample && len(c.infos) > 0 {
		opts = Options{MaxFeasible: NumFeasibleToFind(len(c.infos)), Start: c.next % len(c.infos)}
	}
	d, fe := scheduleOn(p, c.infos, opts, &c.buf)
	if c.Sample && len(c.infos) > 0 {
		c.next = (opts.Start + d.Evaluated) % len(c.infos)
	}
	return d, fe
}
