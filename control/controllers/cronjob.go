package controllers

import (
	"fmt"
	"sort"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// CronJobScheduledTimestamp is the annotation kube puts on a CronJob's
// Jobs: the scheduled time the Job is for (RFC 3339).
const CronJobScheduledTimestamp = batchv1.CronJobScheduledTimestampAnnotation

// maxCronLookBack is how far back from now a missed start time is looked
// for (a schedule that fired last before that counts as not due).
const maxCronLookBack = 1 << 22 * time.Minute

// tooManyMissed is how many missed start times make kube's CronJob
// controller warn (TooManyMissedTimes); it still starts the most recent.
const tooManyMissed = 100

// CronJobPlan is what a CronJob needs at one moment.
type CronJobPlan struct {
	// Create is the Job to start now, if any.
	Create *batchv1.Job
	// Delete are Jobs to delete: active ones a Replace policy replaces,
	// then finished ones beyond the history limits.
	Delete []*batchv1.Job
	// Replaced are the Jobs of Delete that Replace stopped.
	Replaced int
	Status   batchv1.CronJobStatus
	// Next is the next schedule time after now (zero when the schedule
	// never fires again); the controller looks again then.
	Next time.Time
	// Events are what the controller reports (type, reason, message).
	Events [][3]string
}

// ParseCronSchedule parses a CronJob's schedule in its time zone (the
// controller's local zone when timeZone is unset), as kube does: robfig
// cron's standard parser with a TZ= prefix.
func ParseCronSchedule(cj *batchv1.CronJob) (cron.Schedule, error) {
	s := cj.Spec.Schedule
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil {
			return nil, fmt.Errorf("invalid timeZone %q: %w", *tz, err)
		}
		s = "TZ=" + *tz + " " + s
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("unparseable schedule %q: %w", cj.Spec.Schedule, err)
	}
	return sched, nil
}

// CronJobName is the name of the Job for a scheduled time: the CronJob's
// name and the minutes since the epoch, so that one time makes one Job.
func CronJobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
}

// lastCronTime is the latest schedule time in (earliest, now], and how
// many schedule times that interval holds (counted up to
// tooManyMissed+1). The search steps back from now in doubling windows, so
// that a long-idle CronJob costs little.
func lastCronTime(sched cron.Schedule, earliest, now time.Time) (time.Time, int) {
	var last time.Time
	for w := time.Minute; w <= maxCronLookBack; w *= 2 {
		from := now.Add(-w)
		if !from.After(earliest) {
			from = earliest
		}
		for t := sched.Next(from); !t.IsZero() && !t.After(now); t = sched.Next(t) {
			last = t
		}
		if !last.IsZero() || from.Equal(earliest) {
			break
		}
	}
	if last.IsZero() {
		return last, 0
	}
	n := 0
	for t := sched.Next(earliest); !t.IsZero() && !t.After(now) && n <= tooManyMissed; t = sched.Next(t) {
		n++
	}
	return last, n
}

// PlanCronJob compares cj with the Jobs it controls at now, given its
// parsed schedule: the status (active Jobs, lastScheduleTime,
// lastSuccessfulTime), the Job to start for the latest unmet schedule time
// (none when suspended, when the time is older than
// startingDeadlineSeconds, when its Job exists, or when a Job still runs
// and concurrencyPolicy is Forbid; Replace deletes the running ones
// first), and the finished Jobs beyond the history limits.
func PlanCronJob(cj *batchv1.CronJob, owned []*batchv1.Job, sched cron.Schedule, now time.Time) CronJobPlan {
	plan := CronJobPlan{Status: *cj.Status.DeepCopy()}
	st := &plan.Status
	byName := map[string]*batchv1.Job{}
	var active, succeeded, failed []*batchv1.Job
	for _, j := range owned {
		byName[j.Name] = j
		switch c := jobFinished(j); {
		case c == nil:
			if j.DeletionTimestamp == nil {
				active = append(active, j)
			}
		case c.Type == batchv1.JobComplete:
			succeeded = append(succeeded, j)
			if t := j.Status.CompletionTime; t != nil && (st.LastSuccessfulTime == nil || st.LastSuccessfulTime.Before(t)) {
				st.LastSuccessfulTime = t.DeepCopy()
			}
		default:
			failed = append(failed, j)
		}
	}
	// a Job already listed keeps its reference (as taken when it started),
	// so that the Job's own status changes do not rewrite the CronJob's
	listed := map[types.UID]corev1.ObjectReference{}
	for _, r := range cj.Status.Active {
		listed[r.UID] = r
	}
	setActive := func(jobs []*batchv1.Job) {
		st.Active = nil
		sort.Slice(jobs, func(a, b int) bool { return jobs[a].Name < jobs[b].Name })
		for _, j := range jobs {
			ref, ok := listed[j.UID]
			if !ok {
				ref = corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1",
					Namespace: j.Namespace, Name: j.Name, UID: j.UID, ResourceVersion: j.ResourceVersion}
			}
			st.Active = append(st.Active, ref)
		}
	}
	setActive(active)
	plan.Delete = append(plan.Delete, historyBeyond(succeeded, cj.Spec.SuccessfulJobsHistoryLimit)...)
	plan.Delete = append(plan.Delete, historyBeyond(failed, cj.Spec.FailedJobsHistoryLimit)...)
	plan.Next = sched.Next(now)
	if cj.DeletionTimestamp != nil || (cj.Spec.Suspend != nil && *cj.Spec.Suspend) {
		return plan
	}
	earliest := cj.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		earliest = st.LastScheduleTime.Time
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil {
		if e := now.Add(-time.Duration(*d) * time.Second); e.After(earliest) {
			earliest = e
		}
	}
	scheduled, missed := lastCronTime(sched, earliest, now)
	if scheduled.IsZero() {
		return plan
	}
	if missed > tooManyMissed {
		plan.Events = append(plan.Events, [3]string{corev1.EventTypeWarning, "TooManyMissedTimes",
			fmt.Sprintf("too many missed start times: %d or more. Set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)})
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		plan.Events = append(plan.Events, [3]string{corev1.EventTypeWarning, "MissSchedule",
			"Missed scheduled time to start a job: " + scheduled.UTC().Format(time.RFC1123Z)})
		return plan
	}
	name := CronJobName(cj, scheduled)
	if byName[name] != nil {
		// this time's Job exists already (a status update after its
		// creation may have been lost)
		ts := metav1.NewTime(scheduled)
		st.LastScheduleTime = &ts
		return plan
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(active) > 0 {
			plan.Events = append(plan.Events, [3]string{corev1.EventTypeNormal, "JobAlreadyActive",
				"Not starting job because prior execution is running and concurrency policy is Forbid"})
			return plan
		}
	case batchv1.ReplaceConcurrent:
		plan.Delete = append(active, plan.Delete...)
		plan.Replaced = len(active)
		setActive(nil)
	}
	plan.Create = jobFromCronJob(cj, name, scheduled)
	ts := metav1.NewTime(scheduled)
	st.LastScheduleTime = &ts
	return plan
}

// historyBeyond are the oldest finished Jobs past limit (by start time,
// then name).
func historyBeyond(jobs []*batchv1.Job, limit *int32) []*batchv1.Job {
	if limit == nil || len(jobs) <= int(*limit) {
		return nil
	}
	sort.Slice(jobs, func(a, b int) bool {
		ta, tb := jobs[a].Status.StartTime, jobs[b].Status.StartTime
		switch {
		case ta == nil && tb != nil:
			return true
		case ta != nil && tb == nil:
			return false
		case ta != nil && !ta.Equal(tb):
			return ta.Before(tb)
		}
		return jobs[a].Name < jobs[b].Name
	})
	return jobs[:len(jobs)-int(*limit)]
}

// jobFromCronJob is the Job for one scheduled time: the template's labels,
// annotations and spec, the scheduled-timestamp annotation and a
// controlling owner reference.
func jobFromCronJob(cj *batchv1.CronJob, name string, scheduled time.Time) *batchv1.Job {
	tpl := cj.Spec.JobTemplate
	ann := copyMap(tpl.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[CronJobScheduledTimestamp] = scheduled.Format(time.RFC3339)
	return &batchv1.Job{
		TypeMeta: metav1.TypeMeta{Kind: "Job", APIVersion: "batch/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cj.Namespace, Labels: copyMap(tpl.Labels), Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{ownerRef("batch/v1", "CronJob", cj)}},
		Spec: *tpl.Spec.DeepCopy(),
	}
}
