package scheduler

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// assume places p on node in the cache and in s.bound (s.mu held), then
// binds it through the API in the background, at most maxBinds at once.
// A failed binding forgets the assumption and schedules the pod again.
func (s *Scheduler) assume(ctx context.Context, cache *Cache, p *corev1.Pod, node string) {
	assumed := p.DeepCopy()
	assumed.Spec.NodeName = node
	cache.Assume(assumed)
	s.bound[p.UID] = assumed
	select {
	case s.binds <- struct{}{}:
	case <-ctx.Done():
		delete(s.bound, p.UID)
		return
	}
	s.binders.Go(func() {
		ok := s.bind(ctx, p, node)
		<-s.binds // before s.mu: a round may hold s.mu while it waits for a slot
		if !ok {
			s.mu.Lock()
			delete(s.bound, p.UID)
			s.mu.Unlock()
			s.sig.notify()
		}
	})
}

// bind binds p to node through the API and records the Scheduled event;
// false when the binding failed.
func (s *Scheduler) bind(ctx context.Context, p *corev1.Pod, node string) bool {
	if !s.selectNode(ctx, p, node) {
		return false
	}
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: node}}
	err := s.cfg.Client.CoreV1().Pods(p.Namespace).Bind(ctx, b, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
			s.log.Warn("bind pod", "pod", kube.Key(p.Namespace, p.Name), "node", node, "error", err)
		}
		return false
	}
	s.event(ctx, p, corev1.EventTypeNormal, "Scheduled", fmt.Sprintf("Successfully assigned %s/%s to %s", p.Namespace, p.Name, node))
	return true
}

// unschedulable records PodScheduled=False/Unschedulable with the reasons,
// when that is news, and a FailedScheduling event.
func (s *Scheduler) unschedulable(ctx context.Context, p *corev1.Pod, fe *FitError) {
	msg := fe.Error()
	if c := podCondition(p, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse &&
		c.Reason == corev1.PodReasonUnschedulable && c.Message == msg {
		return
	}
	up := p.DeepCopy()
	setPodCondition(up, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: msg, LastTransitionTime: metav1.NewTime(s.cfg.Now()),
	})
	if up.Status.Phase == "" {
		up.Status.Phase = corev1.PodPending
	}
	if _, err := s.cfg.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			s.log.Warn("mark pod unschedulable", "pod", kube.Key(p.Namespace, p.Name), "error", err)
		}
		return
	}
	s.event(ctx, p, corev1.EventTypeWarning, "FailedScheduling", msg)
}

func (s *Scheduler) event(ctx context.Context, p *corev1.Pod, typ, reason, msg string) {
	if err := s.rec.Event(ctx, "v1", "Pod", p, typ, reason, msg, s.cfg.Now()); err != nil {
		s.log.Debug("event", "error", err)
	}
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func setPodCondition(p *corev1.Pod, c corev1.PodCondition) {
	if cur := podCondition(p, c.Type); cur != nil {
		if cur.Status == c.Status {
			c.LastTransitionTime = cur.LastTransitionTime
		}
		*cur = c
		return
	}
	p.Status.Conditions = append(p.Status.Conditions, c)
}
