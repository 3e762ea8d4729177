package controllers

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func cronJob(schedule string, policy batchv1.ConcurrencyPolicy) *batchv1.CronJob {
	three, one := int32(3), int32(1)
	return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "default", UID: "cj1",
		CreationTimestamp: metav1.NewTime(t0)},
		Spec: batchv1.CronJobSpec{Schedule: schedule, ConcurrencyPolicy: policy,
			SuccessfulJobsHistoryLimit: &three, FailedJobsHistoryLimit: &one,
			JobTemplate: batchv1.JobTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "tick"}}}}}
}

// cronRun is a Job of the CronJob started at t: active, Complete or
// Failed.
func cronRun(cj *batchv1.CronJob, t time.Time, state string) *batchv1.Job {
	j := jobFromCronJob(cj, CronJobName(cj, t), t)
	j.UID = types.UID(j.Name)
	st := metav1.NewTime(t)
	j.Status.StartTime = &st
	switch state {
	case "complete":
		done := metav1.NewTime(t.Add(10 * time.Second))
		j.Status.CompletionTime = &done
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	case "failed":
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}
	}
	return j
}

func cjPlan(p CronJobPlan) string {
	var del, active []string
	for _, j := range p.Delete {
		del = append(del, j.Name)
	}
	sort.Strings(del)
	for _, r := range p.Status.Active {
		active = append(active, r.Name)
	}
	create := ""
	if p.Create != nil {
		create = p.Create.Name
	}
	last, success := "", ""
	if t := p.Status.LastScheduleTime; t != nil {
		last = t.UTC().Format("15:04")
	}
	if t := p.Status.LastSuccessfulTime; t != nil {
		success = t.UTC().Format("15:04:05")
	}
	var reasons []string
	for _, e := range p.Events {
		reasons = append(reasons, e[1])
	}
	return fmt.Sprintf("create=%s delete=%v active=%v last=%s success=%s next=%s events=%s",
		create, del, active, last, success, p.Next.UTC().Format("15:04"), strings.Join(reasons, ","))
}

func TestPlanCronJob(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	name := func(m int) string { return fmt.Sprintf("tick-%d", at(m).Unix()/60) }
	every := cronJob("*/1 * * * *", batchv1.AllowConcurrent)
	forbid := cronJob("*/1 * * * *", batchv1.ForbidConcurrent)
	replace := cronJob("*/1 * * * *", batchv1.ReplaceConcurrent)
	suspended := cronJob("*/1 * * * *", batchv1.AllowConcurrent)
	suspended.Spec.Suspend = new(bool)
	*suspended.Spec.Suspend = true
	deadline := cronJob("*/5 * * * *", batchv1.AllowConcurrent)
	d := int64(30)
	deadline.Spec.StartingDeadlineSeconds = &d
	scheduled := func(cj *batchv1.CronJob, m int) *batchv1.CronJob {
		cj = cj.DeepCopy()
		ts := metav1.NewTime(at(m))
		cj.Status.LastScheduleTime = &ts
		return cj
	}
	hourly := cronJob("@hourly", batchv1.AllowConcurrent)
	zoned := cronJob("30 1 * * *", batchv1.AllowConcurrent)
	tz := "Asia/Kolkata" // 01:30 there is 20:00 UTC the day before
	zoned.Spec.TimeZone = &tz
	cases := []struct {
		name string
		cj   *batchv1.CronJob
		jobs []*batchv1.Job
		now  time.Time
		want string
	}{
		{"not due yet", every, nil, at(0).Add(30 * time.Second),
			"create= delete=[] active=[] last= success= next=00:01 events="},
		{"due: the job of that minute", every, nil, at(1).Add(time.Second),
			fmt.Sprintf("create=%s delete=[] active=[] last=00:01 success= next=00:02 events=", name(1))},
		{"missed several: only the latest", every, nil, at(5).Add(time.Second),
			fmt.Sprintf("create=%s delete=[] active=[] last=00:05 success= next=00:06 events=", name(5))},
		{"its job exists", scheduled(every, 1), []*batchv1.Job{cronRun(every, at(1), "")}, at(1).Add(20 * time.Second),
			fmt.Sprintf("create= delete=[] active=[%s] last=00:01 success= next=00:02 events=", name(1))},
		{"allow: runs beside the active one", scheduled(every, 1), []*batchv1.Job{cronRun(every, at(1), "")}, at(2),
			fmt.Sprintf("create=%s delete=[] active=[%s] last=00:02 success= next=00:03 events=", name(2), name(1))},
		{"forbid: waits", scheduled(forbid, 1), []*batchv1.Job{cronRun(forbid, at(1), "")}, at(2),
			fmt.Sprintf("create= delete=[] active=[%s] last=00:01 success= next=00:03 events=JobAlreadyActive", name(1))},
		{"replace: the active one goes", scheduled(replace, 1), []*batchv1.Job{cronRun(replace, at(1), "")}, at(2),
			fmt.Sprintf("create=%s delete=[%s] active=[] last=00:02 success= next=00:03 events=", name(2), name(1))},
		{"suspended", suspended, nil, at(3), "create= delete=[] active=[] last= success= next=00:04 events="},
		{"starting deadline passed", deadline, nil, at(5).Add(31 * time.Second),
			"create= delete=[] active=[] last= success= next=00:10 events="},
		{"within the starting deadline", deadline, nil, at(5).Add(29 * time.Second),
			fmt.Sprintf("create=%s delete=[] active=[] last=00:05 success= next=00:10 events=", name(5))},
		{"history limits and last success", scheduled(every, 6), []*batchv1.Job{
			cronRun(every, at(1), "complete"), cronRun(every, at(2), "complete"), cronRun(every, at(3), "complete"),
			cronRun(every, at(4), "complete"), cronRun(every, at(5), "failed"), cronRun(every, at(6), "failed")}, at(6).Add(30 * time.Second),
			fmt.Sprintf("create= delete=[%s %s] active=[] last=00:06 success=00:04:10 next=00:07 events=", name(1), name(5))},
		{"too many missed", hourly, nil, at(60 * 200),
			fmt.Sprintf("create=%s delete=[] active=[] last=08:00 success= next=09:00 events=TooManyMissedTimes", name(60*200))},
		{"time zone", zoned, nil, at(20 * 60).Add(time.Second),
			fmt.Sprintf("create=%s delete=[] active=[] last=20:00 success= next=20:00 events=", name(20*60))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sched, err := ParseCronSchedule(c.cj)
			if err != nil {
				t.Fatal(err)
			}
			plan := PlanCronJob(c.cj, c.jobs, sched, c.now)
			if got := cjPlan(plan); got != c.want {
				t.Fatalf("\n got %s\nwant %s", got, c.want)
			}
			if j := plan.Create; j != nil {
				r := controllerOf(j)
				if r == nil || r.Kind != "CronJob" || r.UID != c.cj.UID || j.Labels["app"] != "tick" || j.Annotations[CronJobScheduledTimestamp] == "" {
					t.Fatalf("job meta %+v", j.ObjectMeta)
				}
			}
		})
	}
}
