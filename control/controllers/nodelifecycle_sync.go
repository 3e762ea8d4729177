package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchNodes feeds the node lifecycle controller (key: the node's name,
// whether or not the node exists): a node's changes and a change to a pod
// bound to it. Run adds every node every nodeMonitorPeriod (heartbeats
// stop without an event), as kube's node monitor does.
func (m *Manager) watchNodes(h *handlers) {
	l := m.loops.nodelifecycle
	h.onAny(m.in.nodes, func(obj any) { l.add(keyOf(obj)) })
	h.onAny(m.in.pods, func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok {
			if p, ok := o.(*corev1.Pod); ok && p.Spec.NodeName != "" {
				l.add(p.Spec.NodeName)
			}
		}
	})
}

// nodeMonitorPeriod is how often every node's liveness is looked at
// again without an event (Lease renewals enqueue nothing): kube's
// node-monitor-period, 5 s against its 40 s grace period, so an eighth
// of the grace period at most, and never more often than Resync. At
// 5,000 nodes that is 1,000 node syncs a second, not 5,000.
func (m *Manager) nodeMonitorPeriod() time.Duration {
	return max(m.cfg.Resync, min(5*time.Second, m.cfg.NodeGracePeriod/8))
}

// nodeKeys are the cached nodes' names and the nodes bound pods name.
func (m *Manager) nodeKeys() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	nodes, _ := m.in.nodeLister.List(labels.Everything())
	for _, n := range nodes {
		add(n.Name)
	}
	for _, n := range m.in.pods.GetIndexer().ListIndexFuncValues(kube.PodsByNode) {
		add(n)
	}
	return out
}

// syncNode reconciles one node and the pods bound to it; for a node that
// does not exist it force-deletes the pods bound to it (podgc.go).
func (m *Manager) syncNode(ctx context.Context, name string, now time.Time) (time.Duration, error) {
	pods := kube.ByIndex[*corev1.Pod](m.in.pods, kube.PodsByNode, name)
	n, err := m.in.nodeLister.Get(name)
	if err != nil {
		if len(pods) == 0 {
			return 0, nil
		}
		return 0, m.gcOrphanPods(ctx, name, pods)
	}
	lease, err := m.in.leaseLister.Leases(NodeLeaseNamespace).Get(name)
	if err != nil {
		lease = nil // no Lease yet: the Ready condition's heartbeat alone
	}
	plan := PlanNode(n, lease, pods, now, m.cfg.NodeGracePeriod, m.cfg.EvictionTimeout)
	cur := n
	if plan.Ready != nil {
		up := n.DeepCopy()
		setNodeCondition(up, *plan.Ready)
		out, err := m.c.CoreV1().Nodes().UpdateStatus(ctx, up, metav1.UpdateOptions{})
		if err != nil {
			m.warnUnlessRace("mark node unknown", n, err)
			return 0, err
		}
		cur = out
		m.event(ctx, "v1", "Node", n, corev1.EventTypeNormal, "NodeNotReady",
			fmt.Sprintf("Node %s status is now: NodeNotReady", n.Name))
	}
	if plan.TaintsChanged {
		up := cur.DeepCopy()
		up.Spec.Taints = plan.Taints
		if _, err := m.c.CoreV1().Nodes().Update(ctx, up, metav1.UpdateOptions{}); err != nil {
			m.warnUnlessRace("taint node", n, err)
			return 0, err
		}
	}
	var errs []error
	for _, p := range plan.NotReady {
		if _, err := m.c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, markPodNotReady(p, now), metav1.UpdateOptions{}); err != nil {
			m.warnUnlessRace("mark pod not ready", p, err)
			errs = append(errs, err)
			continue
		}
		m.event(ctx, "v1", "Pod", p, corev1.EventTypeWarning, "NodeNotReady",
			fmt.Sprintf("Node %s is not Ready: marking pod %s/%s not ready", n.Name, p.Namespace, p.Name))
	}
	for _, p := range plan.Evict {
		ok, err := m.evictPod(ctx, p, now)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			m.event(ctx, "v1", "Pod", p, corev1.EventTypeNormal, "TaintManagerEviction",
				fmt.Sprintf("Marking for deletion Pod %s/%s", p.Namespace, p.Name))
		}
	}
	for _, p := range plan.ForceDelete {
		errs = append(errs, m.forceDeletePod(ctx, p, "PodGCNodeNotReady",
			fmt.Sprintf("Force-deleting terminating Pod %s/%s: its grace period is over and node %s is not Ready to confirm it stopped", p.Namespace, p.Name, n.Name)))
	}
	return 0, errors.Join(errs...)
}

func setNodeCondition(n *corev1.Node, c corev1.NodeCondition) {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == c.Type {
			n.Status.Conditions[i] = c
			return
		}
	}
	n.Status.Conditions = append(n.Status.Conditions, c)
}
