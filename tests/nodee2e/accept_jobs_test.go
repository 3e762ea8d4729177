package nodee2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/node/runtime/testimage"
)

var gvrJobs = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}

// accJob runs `sh -c script` in the test image, restartPolicy Never.
func accJob(name, script string, completions, parallelism, backoff int32) *batchv1.Job {
	labels := map[string]string{"job": name}
	grace := int64(1)
	return &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: batchv1.JobSpec{Completions: &completions, Parallelism: &parallelism, BackoffLimit: &backoff,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{Name: "job", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
						Command: []string{"sh", "-c", script}}}}}}}
}

func (a *acc) job(t *testing.T, name string) batchv1.Job {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var j batchv1.Job
	obj, err := a.api.Get(ctx, gvrJobs, "default", name)
	if err != nil {
		return j
	}
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &j); err != nil {
		t.Fatalf("decode job: %v", err)
	}
	return j
}

func jobCondition(j *batchv1.Job, typ batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == typ && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// testJobs: completions 5 / parallelism 2 completes; a Job whose pod
// always exits 1 stops at backoffLimit 2 (at most 3 failed pods).
func testJobs(t *testing.T, a *acc) {
	began := time.Now()
	a.createTyped(t, gvrJobs, accJob("acc-job", "sleep 1", 5, 2, 6))
	a.createTyped(t, gvrJobs, accJob("acc-fail", "exit 1", 1, 1, 2))
	maxActive := int32(0)
	var j batchv1.Job
	waitDetail(t, "Job acc-job Complete with 5 succeeded", 120*time.Second, func() bool {
		j = a.job(t, "acc-job")
		maxActive = max(maxActive, j.Status.Active)
		return j.Status.Succeeded == 5 && jobCondition(&j, batchv1.JobComplete) != nil
	}, func() string { return fmt.Sprintf("status %+v", j.Status) })
	t.Logf("Job acc-job (5 x sleep 1, parallelism 2) complete in %v (most active seen %d, failed %d)", time.Since(began).Round(time.Millisecond), maxActive, j.Status.Failed)
	if maxActive > 2 {
		t.Errorf("Job acc-job ran %d pods at once, parallelism is 2", maxActive)
	}
	var f batchv1.Job
	waitDetail(t, "Job acc-fail Failed", 120*time.Second, func() bool {
		f = a.job(t, "acc-fail")
		return jobCondition(&f, batchv1.JobFailed) != nil
	}, func() string { return fmt.Sprintf("status %+v", f.Status) })
	failedAt := time.Now()
	if c := jobCondition(&f, batchv1.JobFailed); c.Reason != "BackoffLimitExceeded" {
		t.Errorf("Job acc-fail Failed with reason %q (%s), want BackoffLimitExceeded", c.Reason, c.Message)
	}
	time.Sleep(3 * time.Second) // no more pods after the Failed condition
	pods := a.podsBy(t, "job=acc-fail")
	failed := 0
	for _, p := range pods {
		if p.Status.Phase == corev1.PodFailed {
			failed++
		}
	}
	t.Logf("Job acc-fail Failed after %v: %d pods (%d Failed), status.failed %d", failedAt.Sub(began).Round(time.Millisecond), len(pods), failed, f.Status.Failed)
	if len(pods) > 3 || failed > 3 || f.Status.Failed > 3 {
		t.Errorf("Job acc-fail (backoffLimit 2) made %d pods, %d Failed, status.failed %d; want at most 3:%s", len(pods), failed, f.Status.Failed, podSummary(pods))
	}
	if f.Status.Active != 0 {
		t.Errorf("failed Job acc-fail still has %d active pods", f.Status.Active)
	}
	for _, name := range []string{"acc-job", "acc-fail"} {
		a.deleteAndWait(t, gvrJobs, name, "job="+name)
	}
}
