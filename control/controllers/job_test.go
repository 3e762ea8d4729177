package controllers_test

import (
	"fmt"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func newJob(name string, completions, parallelism, backoff int32) *batchv1.Job {
	tpl := podTemplate(name, "busybox")
	tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{Kind: "Job", APIVersion: "batch/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: batchv1.JobSpec{Completions: &completions, Parallelism: &parallelism, BackoffLimit: &backoff,
			Template: tpl},
	}
}

// finishPods acts as the kubelet for a job's pods: every running pod ends
// in phase, and at most parallel pods run at once.
func finishPods(t *testing.T, c kubernetes.Interface, job string, phase corev1.PodPhase, parallel int) string {
	active := 0
	for _, p := range listPods(t, c, "default") {
		if p.Labels["app"] != job || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		active++
		_ = setPodStatus(c, &p, phase, false, "")
	}
	if active > parallel {
		return fmt.Sprintf("%d pods active at once, parallelism %d", active, parallel)
	}
	return ""
}

func jobDone(c kubernetes.Interface, name string, want batchv1.JobConditionType) (*batchv1.Job, string) {
	var j batchv1.Job
	if err := into(&j)(c.BatchV1().Jobs("default").Get(bg, name, metav1.GetOptions{})); err != nil {
		return nil, err.Error()
	}
	for _, cond := range j.Status.Conditions {
		if cond.Type == want && cond.Status == corev1.ConditionTrue {
			return &j, ""
		}
	}
	return nil, fmt.Sprintf("job %s status %+v", name, j.Status)
}

// TestJob: completions 5 / parallelism 2 completes with 5 succeeded pods,
// never more than 2 at once; a job whose pods always fail stops at
// backoffLimit 1 (2 failed pods) with Failed/BackoffLimitExceeded.
func TestJob(t *testing.T) {
	c := start(t)
	for _, j := range []*batchv1.Job{newJob("ok", 5, 2, 6), newJob("bad", 1, 1, 1)} {
		if err := discard(c.BatchV1().Jobs("default").Create(bg, j, metav1.CreateOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	var tooMany string
	eventually(t, func() string {
		if s := finishPods(t, c, "ok", corev1.PodSucceeded, 2); s != "" {
			tooMany = s
		}
		finishPods(t, c, "bad", corev1.PodFailed, 1)
		if _, why := jobDone(c, "ok", batchv1.JobComplete); why != "" {
			return why
		}
		_, why := jobDone(c, "bad", batchv1.JobFailed)
		return why
	})
	if tooMany != "" {
		t.Fatal(tooMany)
	}
	ok, _ := jobDone(c, "ok", batchv1.JobComplete)
	if ok.Status.Succeeded != 5 || ok.Status.CompletionTime == nil {
		t.Fatalf("ok job status %+v", ok.Status)
	}
	bad, _ := jobDone(c, "bad", batchv1.JobFailed)
	if bad.Status.Failed != 2 || bad.Status.Conditions[len(bad.Status.Conditions)-1].Reason != batchv1.JobReasonBackoffLimitExceeded {
		t.Fatalf("bad job status %+v", bad.Status)
	}
	eventually(t, func() string { return findEvent(c, "default", "ok", "Completed") })
}

// TestNamespaceServiceAccount: every namespace gets a default
// ServiceAccount.
func TestNamespaceServiceAccount(t *testing.T) {
	c := start(t)
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	if err := discard(c.CoreV1().Namespaces().Create(bg, ns, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"default", "team"} {
		eventually(t, func() string {
			var sa corev1.ServiceAccount
			if err := into(&sa)(c.CoreV1().ServiceAccounts(n).Get(bg, "default", metav1.GetOptions{})); err != nil {
				return err.Error()
			}
			return ""
		})
	}
}
