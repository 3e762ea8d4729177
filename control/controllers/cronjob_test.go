package controllers_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

// fakeClock is the controllers' time, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}

// TestCronJob runs a `*/1 * * * *` CronJob with concurrencyPolicy Forbid
// and successfulJobsHistoryLimit 1 on an injected clock: a minute the
// clock passes starts the Job <name>-<minutes> (owned by the CronJob, in
// status.active, lastScheduleTime set); a minute passing while it runs
// starts nothing until it completes (lastSuccessfulTime); the older
// finished Job is deleted past the history limit; suspend stops it.
func TestCronJob(t *testing.T) {
	c := kubetest.New(t)
	clock := &fakeClock{t: time.Now()}
	runManager(t, controllers.New(controllers.Config{Client: c, Logger: storetest.Logger(), Now: clock.Now,
		Resync: 200 * time.Millisecond}))
	one := int32(1)
	cj := &batchv1.CronJob{TypeMeta: metav1.TypeMeta{Kind: "CronJob", APIVersion: "batch/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "default"},
		Spec: batchv1.CronJobSpec{Schedule: "*/1 * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: &one,
			JobTemplate:                batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate("tick", "busybox")}}}}
	cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	if err := into(cj)(c.BatchV1().CronJobs("default").Create(bg, cj, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	created := cj.CreationTimestamp.Time
	minute := created.Truncate(time.Minute).Add(time.Minute) // the first schedule time after creation
	jobName := func(m time.Time) string { return fmt.Sprintf("tick-%d", m.Unix()/60) }
	// advance moves the clock and touches the CronJob: its requeue waits
	// in real time, which the fake clock does not drive
	advance := func(to time.Time) {
		clock.set(to)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"test/clock":"%d"}}}`, to.UnixNano())
		if err := discard(c.BatchV1().CronJobs("default").Patch(bg, "tick", types.MergePatchType, []byte(patch), metav1.PatchOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	jobs := func() (map[string]*batchv1.Job, string) {
		var l batchv1.JobList
		if err := into(&l)(c.BatchV1().Jobs("default").List(bg, metav1.ListOptions{})); err != nil {
			t.Fatal(err)
		}
		out := map[string]*batchv1.Job{}
		var names []string
		for i := range l.Items {
			out[l.Items[i].Name] = &l.Items[i]
			names = append(names, l.Items[i].Name)
		}
		sort.Strings(names)
		return out, strings.Join(names, " ")
	}
	state := func(wantJobs string, wantActive string, wantLast time.Time) func() string {
		return func() string {
			_, names := jobs()
			if names != wantJobs {
				return "jobs [" + names + "], want [" + wantJobs + "]"
			}
			var got batchv1.CronJob
			if err := into(&got)(c.BatchV1().CronJobs("default").Get(bg, "tick", metav1.GetOptions{})); err != nil {
				return err.Error()
			}
			var active []string
			for _, r := range got.Status.Active {
				active = append(active, r.Name)
			}
			if a := strings.Join(active, " "); a != wantActive {
				return "active [" + a + "], want [" + wantActive + "]"
			}
			if l := got.Status.LastScheduleTime; l == nil || !l.Time.Equal(wantLast) {
				return fmt.Sprintf("lastScheduleTime %v, want %v", l, wantLast)
			}
			return ""
		}
	}

	advance(minute.Add(time.Second))
	first := jobName(minute)
	eventually(t, state(first, first, minute))
	all, _ := jobs()
	j := all[first]
	if r := j.OwnerReferences; len(r) != 1 || r[0].Kind != "CronJob" || r[0].UID != cj.UID || j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != minute.UTC().Format(time.RFC3339) {
		t.Fatalf("job meta %+v", j.ObjectMeta)
	}

	// Forbid: the next minute passes while the first job runs
	advance(minute.Add(time.Minute + time.Second))
	time.Sleep(300 * time.Millisecond)
	eventually(t, state(first, first, minute))
	eventually(t, func() string { return findEvent(c, "default", "tick", "JobAlreadyActive") })

	// the first job completes: the start Forbid held back happens now,
	// as in kube (the missed time is still the latest unmet one)
	complete := func(name string, at time.Time) {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the job controller writes its status too
			all, _ := jobs()
			j := all[name]
			j.Status.StartTime = &metav1.Time{Time: at}
			j.Status.CompletionTime = &metav1.Time{Time: at.Add(30 * time.Second)}
			j.Status.Succeeded = 1
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
			return discard(c.BatchV1().Jobs("default").UpdateStatus(bg, j, metav1.UpdateOptions{}))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	complete(first, minute)
	second := minute.Add(time.Minute)
	eventually(t, state(first+" "+jobName(second), jobName(second), second))
	var got batchv1.CronJob
	if err := into(&got)(c.BatchV1().CronJobs("default").Get(bg, "tick", metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	if l := got.Status.LastSuccessfulTime; l == nil || !l.Time.Equal(minute.Add(30*time.Second)) {
		t.Fatalf("lastSuccessfulTime %v, want %v", l, minute.Add(30*time.Second))
	}

	// the second completes: the history limit (1) deletes the first
	complete(jobName(second), second)
	eventually(t, state(jobName(second), "", second))

	// the next minute starts the third
	third := minute.Add(2 * time.Minute)
	advance(third.Add(time.Second))
	eventually(t, state(jobName(second)+" "+jobName(third), jobName(third), third))

	// suspended: minutes pass, nothing starts
	if err := discard(c.BatchV1().CronJobs("default").Patch(bg, "tick", types.MergePatchType, []byte(`{"spec":{"suspend":true}}`), metav1.PatchOptions{})); err != nil {
		t.Fatal(err)
	}
	advance(third.Add(5 * time.Minute))
	time.Sleep(500 * time.Millisecond)
	eventually(t, state(jobName(second)+" "+jobName(third), jobName(third), third))
}
