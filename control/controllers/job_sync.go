package controllers

import (
	"context"
	"errors"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// watchJobs feeds the Job controller: a Job's own changes (its pods'
// come through podOwnerEvent).
func (m *Manager) watchJobs(h *handlers) {
	h.onAny(m.in.jobs, func(obj any) { m.loops.job.add(keyOf(obj)) })
	h.on(m.in.jobs, nil, nil, func(obj any) { m.jobExp.forget(keyOf(obj)) })
}

// syncJob reconciles one Job (key namespace/name).
func (m *Manager) syncJob(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	j, err := m.in.jobLister.Jobs(ns).Get(name)
	if err != nil || !m.jobExp.satisfied(key, now) {
		return 0, nil
	}
	plan := PlanJob(j, m.ownedPods(j.UID), now)
	if j.DeletionTimestamp != nil {
		plan.Create = 0 // being deleted: no new pods
	}
	if plan.Create > 0 || len(plan.Delete) > 0 {
		m.jobExp.expect(key, plan.Create, podUIDs(plan.Delete), now)
	}
	var errs []error
	ref := ownerRef("batch/v1", "Job", j)
	for i := range plan.Create {
		p := podFromTemplate(&j.Spec.Template, j.Namespace, j.Name, ref)
		out, err := m.c.CoreV1().Pods(j.Namespace).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			for range plan.Create - i {
				m.jobExp.created(key)
			}
			m.warn("create job pod", j, err)
			m.event(ctx, "batch/v1", "Job", j, corev1.EventTypeWarning, "FailedCreate", err.Error())
			errs = append(errs, err)
			break
		}
		m.event(ctx, "batch/v1", "Job", j, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+out.Name)
	}
	for _, p := range plan.Delete {
		ok, err := m.deletePod(ctx, p)
		if !ok {
			m.jobExp.deleted(key, p.UID)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			m.event(ctx, "batch/v1", "Job", j, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name)
		}
	}
	var after time.Duration
	if j.Spec.ActiveDeadlineSeconds != nil && plan.Finished == nil && jobFinished(j) == nil {
		after = m.cfg.Resync // the deadline passes without an event
	}
	if equality.Semantic.DeepEqual(plan.Status, j.Status) {
		return after, errors.Join(errs...)
	}
	up := j.DeepCopy()
	up.Status = plan.Status
	if _, err := m.c.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
		m.warnUnlessRace("update job status", j, err)
		return after, errors.Join(append(errs, err)...)
	}
	if c := plan.Finished; c != nil {
		typ, reason := corev1.EventTypeNormal, "Completed"
		if c.Type == batchv1.JobFailed {
			typ, reason = corev1.EventTypeWarning, c.Reason
		}
		m.event(ctx, "batch/v1", "Job", j, typ, reason, c.Message)
	}
	return after, errors.Join(errs...)
}
