package nodee2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

// TestInitContainersAndDeadlineKubectl: the real kubectl shows a pod with
// an init container as the kubelet's: Init:0/1 while it runs, then
// Running, its log under -c; a pod past its activeDeadlineSeconds is
// Failed with reason DeadlineExceeded and stays in the API until deleted.
func TestInitContainersAndDeadlineKubectl(t *testing.T) {
	testutil.RequireBinary(t, "kubectl", exec.LookPath)
	c, n, _, uids := onePodNode(t)
	kc := kubeconfigFor(t, c)
	grace, deadline := int64(1), int64(4)
	mk := func(name string, init []corev1.Container, app string) *corev1.Pod {
		ctr := func(c corev1.Container) corev1.Container {
			c.Image, c.ImagePullPolicy = testimage.Name, corev1.PullNever
			c.VolumeMounts = []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}
			return c
		}
		p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: n.name, TerminationGracePeriodSeconds: &grace,
				Volumes:    []corev1.Volume{{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				Containers: []corev1.Container{ctr(corev1.Container{Name: "app", Command: []string{"/bin/sh", "-c", app}})}}}
		for _, ic := range init {
			p.Spec.InitContainers = append(p.Spec.InitContainers, ctr(ic))
		}
		return p
	}
	c.createTyped(t, gvrPods, mk("initkc", []corev1.Container{{Name: "prep", Command: []string{"/bin/sh", "-c", "echo prepared; sleep 4; echo ready > /work/state"}}},
		"cat /work/state; while true; do sleep 1; done"))
	dl := mk("deadlinekc", nil, "while true; do sleep 1; done")
	dl.Spec.ActiveDeadlineSeconds = &deadline
	c.createTyped(t, gvrPods, dl)

	status := func(pod string) string {
		out, _, _ := kc.run(t, nil, "kubectl", "--kubeconfig", kc.path, "get", "pod", pod, "--no-headers")
		if f := strings.Fields(out); len(f) >= 3 {
			return f[1] + " " + f[2] // READY STATUS
		}
		return out
	}
	var seen []string
	waitDetail(t, "kubectl shows initkc Running", 90*time.Second, func() bool {
		c.podRunning(t, "initkc", uids)
		s := status("initkc")
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		return s == "1/1 Running"
	}, func() string { return "statuses seen: " + strings.Join(seen, ", ") })
	if !strings.Contains(strings.Join(seen, ","), "0/1 Init:0/1") {
		t.Errorf("kubectl never showed Init:0/1 while the init container ran: %q", seen)
	}
	kc.expect(t, nil, 0, "prepared\n", "", "logs", "initkc", "-c", "prep")
	kc.expect(t, nil, 0, "ready\n", "", "logs", "initkc", "-c", "app")

	phase := func() string {
		out, _, _ := kc.run(t, nil, "kubectl", "--kubeconfig", kc.path, "get", "pod", "deadlinekc", "-o", "jsonpath={.status.phase} {.status.reason}")
		return out
	}
	waitDetail(t, "deadlinekc Failed with DeadlineExceeded", 60*time.Second, func() bool {
		c.podRunning(t, "deadlinekc", uids)
		return phase() == "Failed DeadlineExceeded"
	}, func() string { return "phase and reason " + phase() })
	time.Sleep(3 * time.Second)
	p, ok := c.getPod(t, "deadlinekc")
	if !ok || p.Status.Phase != corev1.PodFailed || p.Status.Reason != "DeadlineExceeded" || p.DeletionTimestamp != nil {
		t.Errorf("deadlinekc after its deadline: present %v, phase %s reason %q deleting %v", ok, p.Status.Phase, p.Status.Reason, p.DeletionTimestamp)
	}
}
