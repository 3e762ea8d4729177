package controllers

import (
	"context"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/weirnet/weir/control/controllers/kube"
)

func (m *Manager) syncJobs(ctx context.Context, now time.Time) {
	owned := m.podsByController()
	for _, j := range m.inf.jobs.List() {
		if ctx.Err() != nil {
			return
		}
		m.syncJob(ctx, j, owned[j.UID], now)
	}
}

func (m *Manager) syncJob(ctx context.Context, j *batchv1.Job, owned []*corev1.Pod, now time.Time) {
	plan := PlanJob(j, owned, now)
	if j.DeletionTimestamp != nil {
		plan.Create = 0 // being deleted: no new pods
	}
	ref := ownerRef("batch/v1", "Job", j)
	for range plan.Create {
		p := podFromTemplate(&j.Spec.Template, j.Namespace, j.Name, ref)
		out := &corev1.Pod{}
		if err := m.c.Create(ctx, kube.Pods, j.Namespace, p, out); err != nil {
			m.warn("create job pod", j, err)
			m.event(ctx, "batch/v1", "Job", j, corev1.EventTypeWarning, "FailedCreate", err.Error())
			break
		}
		m.inf.pods.Observe(out)
		m.event(ctx, "batch/v1", "Job", j, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+out.Name)
	}
	for _, p := range plan.Delete {
		if m.deletePod(ctx, p) {
			m.event(ctx, "batch/v1", "Job", j, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name)
		}
	}
	if equality.Semantic.DeepEqual(plan.Status, j.Status) {
		return
	}
	up := j.DeepCopy()
	up.Status = plan.Status
	out := &batchv1.Job{}
	if err := m.c.UpdateStatus(ctx, kube.Jobs, j.Namespace, j.Name, up, out); err != nil {
		m.warnUnlessRace("update job status", j, err)
		return
	}
	m.inf.jobs.Observe(out)
	if c := plan.Finished; c != nil {
		typ, reason := corev1.EventTypeNormal, "Completed"
		if c.Type == batchv1.JobFailed {
			typ, reason = corev1.EventTypeWarning, c.Reason
		}
		m.event(ctx, "batch/v1", "Job", j, typ, reason, c.Message)
	}
}
