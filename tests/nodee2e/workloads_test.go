package nodee2e

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

var gvrDaemonSets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}

const dsApp = "ds-e2e"

// TestDaemonSetRealRuntime: a DaemonSet created on a one-node cluster
// runs its pod there (placed by the scheduler through the metadata.name
// node affinity the controller sets); a node that joins afterwards gets
// its own pod; both run in containerd, Ready, and the DaemonSet's status
// counts them; deleted, the garbage collector removes its pods and the
// runtime stops them.
func TestDaemonSetRealRuntime(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	c := newCluster(t)
	sock := testutil.StartContainerd(t)
	n1 := c.newNode(t, 1)
	importTestImage(t, sock, n1.name)
	uids := &uidSet{m: map[string]bool{}}
	nodes := []*node{n1}
	t.Cleanup(func() { cleanUpPods(t, nodes, sock, uids) })
	c.startPodAgent(t, n1, sock)
	waitFor(t, "node 1 Ready", 30*time.Second, func() bool { ok, _ := c.nodeReady(n1.name); return ok })

	grace := int64(2)
	labels := map[string]string{"app": dsApp}
	c.createTyped(t, gvrDaemonSets, &appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: dsApp, Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{Name: "srv", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
						Args: []string{"-udp-echo="}, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}}}}})
	pods := func() []corev1.Pod {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		list, err := c.api.List(ctx, gvrPods, "default", listOpts("app="+dsApp))
		if err != nil {
			return nil
		}
		var out []corev1.Pod
		for _, item := range list.Items {
			var p corev1.Pod
			if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &p); err != nil {
				t.Fatalf("decode pod: %v", err)
			}
			uids.add(string(p.UID))
			if p.DeletionTimestamp == nil {
				out = append(out, p)
			}
		}
		return out
	}
	status := func() appsv1.DaemonSetStatus {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		obj, err := c.api.Get(ctx, gvrDaemonSets, "default", dsApp)
		if err != nil {
			return appsv1.DaemonSetStatus{}
		}
		var ds appsv1.DaemonSet
		_ = kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &ds)
		return ds.Status
	}
	counts := func(st appsv1.DaemonSetStatus) string {
		return fmt.Sprintf("%d/%d/%d/%d/%d", st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady,
			st.UpdatedNumberScheduled, st.NumberAvailable)
	}
	waitFor(t, "the daemon pod Running and Ready on node 1", 60*time.Second, func() bool {
		return readyOnDistinctNodes(pods(), 1) && counts(status()) == "1/1/1/1/1"
	})
	if p := pods()[0]; p.Spec.NodeName != n1.name {
		t.Fatalf("daemon pod on %q, want %s", p.Spec.NodeName, n1.name)
	}

	n2 := c.newNode(t, 2) // joins after the DaemonSet was created
	importTestImage(t, sock, n2.name)
	nodes = append(nodes, n2)
	c.startPodAgent(t, n2, sock)
	joined := time.Now()
	waitFor(t, "a daemon pod Running and Ready on each node", 90*time.Second, func() bool {
		return readyOnDistinctNodes(pods(), 2) && counts(status()) == "2/2/2/2/2"
	})
	t.Logf("node 2 started -> its daemon pod Ready: %v", time.Since(joined).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.api.Delete(ctx, gvrDaemonSets, "default", dsApp); err != nil {
		t.Fatalf("delete DaemonSet: %v", err)
	}
	waitFor(t, "daemon pods stopped and removed on both nodes", 60*time.Second, func() bool {
		for _, n := range nodes {
			if k, err := containerCount(sock, "weir-"+n.name); err != nil || k != 0 {
				return false
			}
		}
		return len(pods()) == 0 && !uids.anyNetns()
	})
}

var gvrCronJobs = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}

// TestCronJobRealRuntime: one firing of a `*/1 * * * *` CronJob on a real
// node (at most a minute's wait): at the next minute the controller
// creates the Job <name>-<minutes>, its pod runs to completion in
// containerd, and the CronJob records lastScheduleTime and
// lastSuccessfulTime with no Job active. The schedule logic itself is
// tested on an injected clock in control/controllers.
func TestCronJobRealRuntime(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	c := newCluster(t)
	sock := testutil.StartContainerd(t)
	n1 := c.newNode(t, 1)
	importTestImage(t, sock, n1.name)
	uids := &uidSet{m: map[string]bool{}}
	t.Cleanup(func() { cleanUpPods(t, []*node{n1}, sock, uids) })
	c.startPodAgent(t, n1, sock)
	waitFor(t, "node 1 Ready", 30*time.Second, func() bool { ok, _ := c.nodeReady(n1.name); return ok })

	c.createTyped(t, gvrCronJobs, &batchv1.CronJob{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "default"},
		Spec: batchv1.CronJobSpec{Schedule: "*/1 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "tick", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
					Command: []string{"sh", "-c", "echo fired"}}}}}}}}})
	created := time.Now()
	fire := created.Truncate(time.Minute).Add(time.Minute)
	want := fmt.Sprintf("tick-%d", fire.Unix()/60)
	var cj batchv1.CronJob
	waitFor(t, "the CronJob's first Job "+want+" complete", time.Until(fire)+60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		obj, err := c.api.Get(ctx, gvrCronJobs, "default", "tick")
		if err != nil {
			return false
		}
		cj = batchv1.CronJob{}
		_ = kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &cj)
		if pods, err := c.api.List(ctx, gvrPods, "default", listOpts("")); err == nil {
			for _, p := range pods.Items {
				uids.add(string(p.GetUID()))
			}
		}
		return cj.Status.LastSuccessfulTime != nil && len(cj.Status.Active) == 0
	})
	if l := cj.Status.LastScheduleTime; l == nil || !l.Time.Equal(fire) {
		t.Errorf("lastScheduleTime %v, want %v", l, fire)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj, err := c.api.Get(ctx, gvrJobs, "default", want)
	if err != nil {
		t.Fatalf("job %s: %v", want, err)
	}
	var j batchv1.Job
	_ = kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &j)
	if j.Status.Succeeded != 1 || len(j.OwnerReferences) != 1 || j.OwnerReferences[0].Kind != "CronJob" {
		t.Errorf("job %s: succeeded %d, owners %v", want, j.Status.Succeeded, j.OwnerReferences)
	}
	t.Logf("created %s, fired at %s, complete after %v", created.Format(time.TimeOnly), fire.Format(time.TimeOnly),
		cj.Status.LastSuccessfulTime.Sub(fire).Round(time.Second))
}
