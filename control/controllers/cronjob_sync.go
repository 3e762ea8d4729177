package controllers

import (
	"context"
	"errors"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchCronJobs feeds the CronJob controller: a CronJob's own changes and
// any change of a Job it controls.
func (m *Manager) watchCronJobs(h *handlers) {
	h.onAny(m.in.cronjobs, func(obj any) { m.loops.cronjob.add(keyOf(obj)) })
	h.onAny(m.in.jobs, func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if j, ok := obj.(*batchv1.Job); ok {
			if r := controllerOf(j); r != nil && r.Kind == "CronJob" {
				m.loops.cronjob.add(kube.Key(j.Namespace, r.Name))
			}
		}
	})
}

// ownedJobs are the cached Jobs controlled by the owner with uid.
func (m *Manager) ownedJobs(uid metav1.Object) []*batchv1.Job {
	var out []*batchv1.Job
	for _, j := range kube.ByIndex[*batchv1.Job](m.in.jobs, kube.ByOwnerUID, string(uid.GetUID())) {
		if ownedBy(j, uid.GetUID()) {
			out = append(out, j)
		}
	}
	return out
}

// syncCronJob reconciles one CronJob (key namespace/name) and looks at it
// again at its next schedule time.
func (m *Manager) syncCronJob(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	cj, err := m.in.cjLister.CronJobs(ns).Get(name)
	if err != nil {
		return 0, nil
	}
	sched, err := ParseCronSchedule(cj)
	if err != nil {
		// validation refuses these; a stored one waits for a fix
		m.event(ctx, "batch/v1", "CronJob", cj, corev1.EventTypeWarning, "UnparseableSchedule", err.Error())
		return 0, nil
	}
	plan := PlanCronJob(cj, m.ownedJobs(cj), sched, now)
	for _, e := range plan.Events {
		m.event(ctx, "batch/v1", "CronJob", cj, e[0], e[1], e[2])
	}
	var errs []error
	bg := metav1.DeletePropagationBackground
	for i, j := range plan.Delete {
		err := m.c.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{
			PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &j.UID}})
		switch {
		case err == nil:
			reason := "SuccessfulDelete"
			if i >= plan.Replaced {
				reason = "SawCompletedJob"
			}
			m.event(ctx, "batch/v1", "CronJob", cj, corev1.EventTypeNormal, reason, "Deleted job "+j.Name)
		case !apierrors.IsNotFound(err):
			m.warnUnlessRace("delete cronjob's job", j, err)
			errs = append(errs, err)
		}
	}
	if plan.Create != nil && len(errs) == 0 {
		out, err := m.c.BatchV1().Jobs(cj.Namespace).Create(ctx, plan.Create, metav1.CreateOptions{})
		switch {
		case err == nil:
			m.event(ctx, "batch/v1", "CronJob", cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job "+plan.Create.Name)
		case apierrors.IsAlreadyExists(err):
			// made in an earlier round whose status update was lost; the
			// Job's event brings this CronJob back with it cached
		default:
			m.warn("create cronjob's job", cj, err)
			m.event(ctx, "batch/v1", "CronJob", cj, corev1.EventTypeWarning, "FailedCreate", err.Error())
			errs = append(errs, err)
		}
		if err != nil {
			plan.Status.LastScheduleTime = cj.Status.LastScheduleTime
		} else {
			plan.Status.Active = append(plan.Status.Active, corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1",
				Namespace: out.Namespace, Name: out.Name, UID: out.UID, ResourceVersion: out.ResourceVersion})
		}
	}
	var after time.Duration
	if !plan.Next.IsZero() {
		after = max(plan.Next.Sub(now), 0) + 100*time.Millisecond
	}
	if equality.Semantic.DeepEqual(plan.Status, cj.Status) {
		return after, errors.Join(errs...)
	}
	up := cj.DeepCopy()
	up.Status = plan.Status
	if _, err := m.c.BatchV1().CronJobs(cj.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
		m.warnUnlessRace("update cronjob status", cj, err)
		errs = append(errs, err)
	}
	return after, errors.Join(errs...)
}
