package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

func (m *Manager) syncNodes(ctx context.Context, now time.Time) {
	byNode := map[string][]*corev1.Pod{}
	for _, p := range m.inf.pods.List() {
		if p.Spec.NodeName != "" {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	known := map[string]bool{}
	for _, n := range m.inf.nodes.List() {
		if ctx.Err() != nil {
			return
		}
		known[n.Name] = true
		m.syncNode(ctx, n, byNode[n.Name], now)
	}
	m.gcOrphanPods(ctx, byNode, known)
}

func (m *Manager) syncNode(ctx context.Context, n *corev1.Node, pods []*corev1.Pod, now time.Time) {
	plan := PlanNode(n, pods, now, m.cfg.NodeGracePeriod, m.cfg.EvictionTimeout)
	cur := n
	if plan.Ready != nil {
		up := n.DeepCopy()
		setNodeCondition(up, *plan.Ready)
		out := &corev1.Node{}
		if err := m.c.UpdateStatus(ctx, kube.Nodes, "", n.Name, up, out); err != nil {
			m.warnUnlessRace("mark node unknown", n, err)
			return
		}
		m.inf.nodes.Observe(out)
		cur = out
		m.event(ctx, "v1", "Node", n, corev1.EventTypeNormal, "NodeNotReady",
			fmt.Sprintf("Node %s status is now: NodeNotReady", n.Name))
	}
	if plan.TaintsChanged {
		up := cur.DeepCopy()
		up.Spec.Taints = plan.Taints
		out := &corev1.Node{}
		if err := m.c.Update(ctx, kube.Nodes, "", n.Name, up, out); err != nil {
			m.warnUnlessRace("taint node", n, err)
			return
		}
		m.inf.nodes.Observe(out)
	}
	for _, p := range plan.NotReady {
		out := &corev1.Pod{}
		if err := m.c.UpdateStatus(ctx, kube.Pods, p.Namespace, p.Name, markPodNotReady(p, now), out); err != nil {
			m.warnUnlessRace("mark pod not ready", p, err)
			continue
		}
		m.inf.pods.Observe(out)
		m.event(ctx, "v1", "Pod", p, corev1.EventTypeWarning, "NodeNotReady",
			fmt.Sprintf("Node %s is not Ready: marking pod %s/%s not ready", n.Name, p.Namespace, p.Name))
	}
	for _, p := range plan.Evict {
		if m.deletePod(ctx, p) {
			m.event(ctx, "v1", "Pod", p, corev1.EventTypeNormal, "TaintManagerEviction",
				fmt.Sprintf("Marking for deletion Pod %s/%s", p.Namespace, p.Name))
		}
	}
	for _, p := range plan.ForceDelete {
		m.forceDeletePod(ctx, p, "PodGCNodeNotReady",
			fmt.Sprintf("Force-deleting terminating Pod %s/%s: its grace period is over and node %s is not Ready to confirm it stopped", p.Namespace, p.Name, n.Name))
	}
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
