package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// gcOrphanPods force-deletes the pods bound to node, which the cache
// does not hold (checked with a fresh read, so a node the cache has not
// seen yet is not taken for gone): no agent will ever run or stop them.
func (m *Manager) gcOrphanPods(ctx context.Context, node string, pods []*corev1.Pod) error {
	_, err := m.c.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		if err != nil {
			m.log.Warn("check the node of bound pods", "node", node, "error", err)
		}
		return err
	}
	var errs []error
	for _, p := range pods {
		errs = append(errs, m.forceDeletePod(ctx, p, "PodGCOrphaned", fmt.Sprintf("Deleting pod %s/%s: its node %s no longer exists", p.Namespace, p.Name, node)))
	}
	return errors.Join(errs...)
}

// forceDeletePod deletes p at once (grace 0) and records an event.
func (m *Manager) forceDeletePod(ctx context.Context, p *corev1.Pod, reason, msg string) error {
	zero, uid := int64(0), p.UID
	err := m.c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero,
		Preconditions: &metav1.Preconditions{UID: &uid}})
	switch {
	case err == nil:
		m.event(ctx, "v1", "Pod", p, corev1.EventTypeNormal, reason, msg)
		return nil
	case apierrors.IsNotFound(err):
		return nil
	}
	m.warnUnlessRace("force-delete pod", p, err)
	return err
}
