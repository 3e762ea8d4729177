package controllers

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// JobPlan is what a Job needs: pods to create and delete, and its status.
type JobPlan struct {
	Create int
	Delete []*corev1.Pod
	Status batchv1.JobStatus
	// Finished is the condition the job just reached (Complete or Failed).
	Finished *batchv1.JobCondition
}

// jobFinished returns the job's Complete or Failed condition when True.
func jobFinished(j *batchv1.Job) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// PlanJob compares j with the pods it controls at now: it runs up to
// parallelism pods until completions pods succeeded (Complete), and fails
// the job (Failed) when more than backoffLimit pods failed or
// activeDeadlineSeconds passed since it started; a finished job's active
// pods are deleted.
func PlanJob(j *batchv1.Job, owned []*corev1.Pod, now time.Time) JobPlan {
	var active []*corev1.Pod
	st := *j.Status.DeepCopy()
	st.Active, st.Succeeded, st.Failed = 0, 0, 0
	for _, p := range owned {
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			st.Succeeded++
		case p.Status.Phase == corev1.PodFailed:
			st.Failed++
		case p.DeletionTimestamp == nil:
			active = append(active, p)
		}
	}
	if st.StartTime == nil {
		ts := metav1.NewTime(now)
		st.StartTime = &ts
	}
	plan := JobPlan{}
	if jobFinished(j) != nil || (j.Spec.Suspend != nil && *j.Spec.Suspend) {
		plan.Delete = active
		st.Active = 0
		plan.Status = st
		return plan
	}
	if c := jobOutcome(j, &st, len(active), now); c != nil {
		plan.Finished = c
		st.Conditions = append(st.Conditions, *c)
		if c.Type == batchv1.JobComplete {
			st.CompletionTime = &c.LastTransitionTime
		}
		plan.Delete = active
		plan.Status = st
		return plan
	}
	want := jobWantActive(j, st.Succeeded)
	switch diff := int32(len(active)) - want; {
	case diff < 0:
		plan.Create = int(min(-diff, maxBurst))
	case diff > 0:
		sort.SliceStable(active, func(a, b int) bool { return deleteFirst(active[a], active[b]) })
		plan.Delete = active[:diff]
	}
	st.Active = int32(len(active) - len(plan.Delete))
	plan.Status = st
	return plan
}

// jobOutcome is the condition the job reaches now, if any.
func jobOutcome(j *batchv1.Job, st *batchv1.JobStatus, active int, now time.Time) *batchv1.JobCondition {
	cond := func(t batchv1.JobConditionType, reason, msg string) *batchv1.JobCondition {
		ts := metav1.NewTime(now)
		return &batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
			LastProbeTime: ts, LastTransitionTime: ts}
	}
	if limit := derefInt32(j.Spec.BackoffLimit, 6); st.Failed > limit {
		return cond(batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit")
	}
	if d := j.Spec.ActiveDeadlineSeconds; d != nil && !now.Before(st.StartTime.Add(time.Duration(*d)*time.Second)) {
		return cond(batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline")
	}
	if c := j.Spec.Completions; c != nil && st.Succeeded >= *c {
		return cond(batchv1.JobComplete, "", fmt.Sprintf("Job completed: %d of %d pods succeeded", st.Succeeded, *c))
	}
	if j.Spec.Completions == nil && st.Succeeded > 0 && active == 0 {
		return cond(batchv1.JobComplete, "", "Job completed")
	}
	return nil
}

// jobWantActive is how many pods should run: parallelism, capped by the
// completions still missing.
func jobWantActive(j *batchv1.Job, succeeded int32) int32 {
	par := derefInt32(j.Spec.Parallelism, 1)
	if c := j.Spec.Completions; c != nil {
		return max(0, min(par, *c-succeeded))
	}
	if succeeded > 0 {
		return 0 // work queue: once one pod succeeded, start no more
	}
	return par
}
