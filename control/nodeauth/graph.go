package nodeauth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/store"
)

// ref is an object a pod references: resource is the plural ("secrets",
// "configmaps", "persistentvolumeclaims", "serviceaccounts").
type ref struct{ resource, namespace, name string }

// podInfo is what the graph keeps of a pod.
type podInfo struct {
	node string
	refs []ref
}

// Graph is the node -> pods -> referenced objects graph, kept current by
// Run from the store's watch of pods.
type Graph struct {
	st  store.Interface
	log *slog.Logger

	mu    sync.RWMutex
	pods  map[string]podInfo     // namespace/name -> info
	edges map[string]map[ref]int // node -> referenced object -> pods referencing it
	// claims is each bound PersistentVolumeClaim's volume: namespace/name -> PV name
	claims map[string]string
	// volumes is each local-path PersistentVolume's node: PV name -> node
	volumes map[string]string
	ready   chan struct{}
	once    sync.Once
}

// NewGraph is an empty graph over st; Run fills it.
func NewGraph(st store.Interface, log *slog.Logger) *Graph {
	if log == nil {
		log = slog.Default()
	}
	return &Graph{st: st, log: log, pods: map[string]podInfo{}, edges: map[string]map[ref]int{},
		claims: map[string]string{}, volumes: map[string]string{}, ready: make(chan struct{})}
}

// Ready is closed once the first list of pods is loaded.
func (g *Graph) Ready() <-chan struct{} { return g.ready }

// Run follows the store's pods and PersistentVolumeClaims until ctx
// ends: a list, then the watch from its revision; a watch that ends
// (history gone, too slow) relists.
func (g *Graph) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.loop(ctx, "persistentvolumeclaims", g.followClaims)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.loop(ctx, "persistentvolumes", g.followVolumes)
	}()
	g.loop(ctx, "pods", g.follow)
	wg.Wait()
}

// followVolumes keeps volumes: the node of each local-path
// PersistentVolume (its LocalPathNodeLabel), which that node cleans up.
func (g *Graph) followVolumes(ctx context.Context) error {
	lr, err := g.st.List(ctx, store.ListOptions{Resource: "persistentvolumes", ReadOptions: store.ReadOptions{Stale: true}})
	if err != nil {
		return err
	}
	w, err := g.st.Watch(ctx, store.WatchOptions{Resource: "persistentvolumes", Revision: lr.Revision})
	if err != nil {
		return err
	}
	fresh := map[string]string{}
	for _, o := range lr.Objects {
		if n := volumeNode(o); n != "" {
			fresh[o.Key.Name] = n
		}
	}
	g.mu.Lock()
	g.volumes = fresh
	g.mu.Unlock()
	for ev := range w.Events() {
		n := volumeNode(ev.Object)
		g.mu.Lock()
		if ev.Type == store.Deleted || n == "" {
			delete(g.volumes, ev.Object.Key.Name)
		} else {
			g.volumes[ev.Object.Key.Name] = n
		}
		g.mu.Unlock()
	}
	if err := w.Err(); err != nil {
		return err
	}
	return errors.New("watch closed")
}

// volumeNode is a stored volume's LocalPathNodeLabel.
func volumeNode(o store.Object) string {
	var pv corev1.PersistentVolume
	if json.Unmarshal(o.Value, &pv) != nil {
		return ""
	}
	return pv.Labels[LocalPathNodeLabel]
}

// localVolumeOn reports whether PersistentVolume pv is a local-path
// volume of node.
func (g *Graph) localVolumeOn(node, pv string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.volumes[pv] == node
}

func (g *Graph) loop(ctx context.Context, what string, follow func(context.Context) error) {
	for ctx.Err() == nil {
		err := follow(ctx)
		if ctx.Err() != nil {
			return
		}
		g.log.Warn("node authorizer: watch ended; relisting", "resource", what, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// followClaims keeps claims: each PersistentVolumeClaim's bound volume,
// the PV a node may read when its pods use the claim.
func (g *Graph) followClaims(ctx context.Context) error {
	lr, err := g.st.List(ctx, store.ListOptions{Resource: "persistentvolumeclaims", ReadOptions: store.ReadOptions{Stale: true}})
	if err != nil {
		return err
	}
	w, err := g.st.Watch(ctx, store.WatchOptions{Resource: "persistentvolumeclaims", Revision: lr.Revision})
	if err != nil {
		return err
	}
	fresh := map[string]string{}
	for _, o := range lr.Objects {
		if v := volumeOf(o); v != "" {
			fresh[o.Key.Namespace+"/"+o.Key.Name] = v
		}
	}
	g.mu.Lock()
	g.claims = fresh
	g.mu.Unlock()
	for ev := range w.Events() {
		k := ev.Object.Key.Namespace + "/" + ev.Object.Key.Name
		v := volumeOf(ev.Object)
		g.mu.Lock()
		if ev.Type == store.Deleted || v == "" {
			delete(g.claims, k)
		} else {
			g.claims[k] = v
		}
		g.mu.Unlock()
	}
	if err := w.Err(); err != nil {
		return err
	}
	return errors.New("watch closed")
}

// volumeOf is a stored claim's spec.volumeName.
func volumeOf(o store.Object) string {
	var c corev1.PersistentVolumeClaim
	if json.Unmarshal(o.Value, &c) != nil {
		return ""
	}
	return c.Spec.VolumeName
}

func (g *Graph) follow(ctx context.Context) error {
	lr, err := g.st.List(ctx, store.ListOptions{Resource: "pods", ReadOptions: store.ReadOptions{Stale: true}})
	if err != nil {
		return err
	}
	w, err := g.st.Watch(ctx, store.WatchOptions{Resource: "pods", Revision: lr.Revision})
	if err != nil {
		return err
	}
	fresh := map[string]podInfo{}
	for _, o := range lr.Objects {
		if pi, ok := podInfoOf(o); ok {
			fresh[o.Key.Namespace+"/"+o.Key.Name] = pi
		}
	}
	g.mu.Lock()
	g.pods, g.edges = map[string]podInfo{}, map[string]map[ref]int{}
	for k, pi := range fresh {
		g.setLocked(k, pi, true)
	}
	g.mu.Unlock()
	g.once.Do(func() { close(g.ready) })
	for ev := range w.Events() {
		k := ev.Object.Key.Namespace + "/" + ev.Object.Key.Name
		pi, ok := podInfoOf(ev.Object)
		g.mu.Lock()
		g.setLocked(k, pi, ok && ev.Type != store.Deleted)
		g.mu.Unlock()
	}
	if err := w.Err(); err != nil {
		return err
	}
	return errors.New("watch closed")
}

// setLocked replaces what the graph holds for pod k (present false:
// the pod is gone or not bound).
func (g *Graph) setLocked(k string, pi podInfo, present bool) {
	if old, ok := g.pods[k]; ok {
		for _, r := range old.refs {
			if m := g.edges[old.node]; m != nil {
				if m[r]--; m[r] <= 0 {
					delete(m, r)
				}
				if len(m) == 0 {
					delete(g.edges, old.node)
				}
			}
		}
		delete(g.pods, k)
	}
	if !present || pi.node == "" {
		return
	}
	g.pods[k] = pi
	m := g.edges[pi.node]
	if m == nil {
		m = map[ref]int{}
		g.edges[pi.node] = m
	}
	for _, r := range pi.refs {
		m[r]++
	}
}

// podInfoOf decodes a stored pod into its node and references; pods not
// bound to a node reference nothing a node may read.
func podInfoOf(o store.Object) (podInfo, bool) {
	var p corev1.Pod
	if json.Unmarshal(o.Value, &p) != nil || p.Spec.NodeName == "" {
		return podInfo{}, false
	}
	return podInfo{node: p.Spec.NodeName, refs: refsOf(&p)}, true
}

// refsOf lists the Secrets, ConfigMaps, PVCs and ServiceAccount of a pod,
// as kube's node graph does (volumes, projected sources, env, envFrom,
// image pull secrets).
func refsOf(p *corev1.Pod) []ref {
	ns := p.Namespace
	seen := map[ref]bool{}
	var out []ref
	add := func(res, name string) {
		r := ref{res, ns, name}
		if name != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sa := p.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	add("serviceaccounts", sa)
	for _, s := range p.Spec.ImagePullSecrets {
		add("secrets", s.Name)
	}
	for _, v := range p.Spec.Volumes {
		switch {
		case v.Secret != nil:
			add("secrets", v.Secret.SecretName)
		case v.ConfigMap != nil:
			add("configmaps", v.ConfigMap.Name)
		case v.PersistentVolumeClaim != nil:
			add("persistentvolumeclaims", v.PersistentVolumeClaim.ClaimName)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					add("secrets", src.Secret.Name)
				}
				if src.ConfigMap != nil {
					add("configmaps", src.ConfigMap.Name)
				}
			}
		}
		if v.Ephemeral != nil {
			add("persistentvolumeclaims", p.Name+"-"+v.Name)
		}
		if v.CSI != nil && v.CSI.NodePublishSecretRef != nil {
			add("secrets", v.CSI.NodePublishSecretRef.Name)
		}
	}
	containers := append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...)
	for _, c := range p.Spec.EphemeralContainers {
		containers = append(containers, corev1.Container(c.EphemeralContainerCommon))
	}
	for _, c := range containers {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				add("secrets", e.SecretRef.Name)
			}
			if e.ConfigMapRef != nil {
				add("configmaps", e.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if e.ValueFrom.SecretKeyRef != nil {
				add("secrets", e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				add("configmaps", e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	}
	return out
}

// references reports whether a pod bound to node references r.
func (g *Graph) references(node string, r ref) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.edges[node][r] > 0
}

// usesVolume reports whether a pod bound to node uses a claim bound to
// PersistentVolume pv.
func (g *Graph) usesVolume(node, pv string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for r := range g.edges[node] {
		if r.resource == "persistentvolumeclaims" && g.claims[r.namespace+"/"+r.name] == pv {
			return true
		}
	}
	return false
}

// podOn reports whether pod namespace/name is bound to node.
func (g *Graph) podOn(node, namespace, name string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	pi, ok := g.pods[namespace+"/"+name]
	return ok && pi.node == node
}
