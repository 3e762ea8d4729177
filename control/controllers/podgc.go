package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weirnet/weir/control/controllers/kube"
)

// overdueTerminating are the pods on a node that is not Ready (status
// Unknown or False) whose graceful deletion is overdue: their
// deletionTimestamp plus their grace period has passed. The node's agent
// is gone and cannot confirm they stopped, so they are force-deleted,
// like Kubernetes' pod garbage collection for out-of-service nodes.
func overdueTerminating(status corev1.ConditionStatus, pods []*corev1.Pod, now time.Time) []*corev1.Pod {
	if status == corev1.ConditionTrue {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			continue
		}
		var grace time.Duration
		if p.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*p.DeletionGracePeriodSeconds) * time.Second
		}
		if !now.Before(p.DeletionTimestamp.Add(grace)) {
			out = append(out, p)
		}
	}
	return out
}

// gcOrphanPods force-deletes the pods bound to nodes that do not exist
// (checked with a fresh read, so a node the cache has not seen yet is
// not taken for gone): no agent will ever run or stop them.
func (m *Manager) gcOrphanPods(ctx context.Context, byNode map[string][]*corev1.Pod, known map[string]bool) {
	for node, pods := range byNode {
		if known[node] || ctx.Err() != nil {
			continue
		}
		err := m.c.Get(ctx, kube.Nodes, "", node, &corev1.Node{})
		if !apierrors.IsNotFound(err) {
			if err != nil {
				m.log.Warn("check the node of bound pods", "node", node, "error", err)
			}
			continue
		}
		for _, p := range pods {
			m.forceDeletePod(ctx, p, "PodGCOrphaned", fmt.Sprintf("Deleting pod %s/%s: its node %s no longer exists", p.Namespace, p.Name, node))
		}
	}
}

// forceDeletePod deletes p at once (grace 0) and records an event.
func (m *Manager) forceDeletePod(ctx context.Context, p *corev1.Pod, reason, msg string) {
	out := &corev1.Pod{}
	err := m.c.ForceDelete(ctx, kube.Pods, p.Namespace, p.Name, p.UID, out)
	if err != nil && !apierrors.IsNotFound(err) {
		m.warnUnlessRace("force-delete pod", p, err)
		return
	}
	m.observePodDelete(p, out, err)
	if err == nil {
		m.event(ctx, "v1", "Pod", p, corev1.EventTypeNormal, reason, msg)
	}
}

// observePodDelete records the answer of a pod DELETE in the cache: a
// pod marked for graceful deletion is still there (with its
// deletionTimestamp), any other is gone.
func (m *Manager) observePodDelete(p, answer *corev1.Pod, err error) {
	if err == nil && answer.DeletionTimestamp != nil && answer.UID == p.UID {
		m.inf.pods.Observe(answer)
		return
	}
	m.inf.pods.ObserveDeleted(p)
}
