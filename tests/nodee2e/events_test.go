package nodee2e

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/node/runtime/testimage"
)

// TestPodEventsInDescribe: what the agent did for a pod shows in `weir
// describe pod`, as kubectl describe shows the kubelet's events: a pod
// whose liveness probe fails gets Pulled, Created, Started, Unhealthy,
// Killing and BackOff from weir-agent on its node; a pod whose image is
// missing under imagePullPolicy Never gets ErrImageNeverPull.
func TestPodEventsInDescribe(t *testing.T) {
	c, n, _, uids := onePodNode(t)

	grace := int64(1)
	mk := func(name, image string) *corev1.Pod {
		return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: n.name, TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{
				{Name: "app", Image: image, ImagePullPolicy: corev1.PullNever, Args: []string{"-udp-echo="}}}}}
	}
	flaky := mk("flaky", testimage.Name)
	flaky.Spec.Containers[0].LivenessProbe = &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 1,
		ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(7777)}}}
	c.createTyped(t, gvrPods, flaky)
	c.createTyped(t, gvrPods, mk("noimage", "weir.test/missing:1"))
	waitFor(t, "pod flaky Running", 90*time.Second, func() bool { return c.podRunning(t, "flaky", uids) })
	c.podRunning(t, "noimage", uids)

	wl := &weirCLI{c: c, t: t}
	describe := func(pod string, want ...string) {
		t.Helper()
		var out string
		waitDetail(t, "describe pod "+pod+" shows its events", 60*time.Second, func() bool {
			out, _, _ = wl.run(nil, "describe", "pod", pod)
			for _, w := range want {
				if !strings.Contains(out, w) {
					return false
				}
			}
			return true
		}, func() string { return "want " + strings.Join(want, " | ") + " in:\n" + out })
		t.Logf("weir describe pod %s:\n%s", pod, out)
	}
	from := "weir-agent, " + n.name
	describe("flaky", "Events:", from, "Pulled", `Container image "`+testimage.Name+`" already present on machine`,
		"Created container app", "Started container app", "Unhealthy", "Liveness probe failed: ",
		"Killing", "Container app failed liveness probe, will be restarted", "Back-off restarting failed container app in pod flaky_default(")
	if out, _, _ := wl.run(nil, "describe", "pod", "flaky"); !strings.Contains(out, "Pulled") ||
		strings.Index(out, "Pulled") > strings.Index(out, "Created container") || strings.Index(out, "Created container") > strings.Index(out, "Started container") {
		t.Errorf("events not in the order they happened:\n%s", out)
	}
	describe("noimage", "Events:", from, "ErrImageNeverPull", `Container image "weir.test/missing:1" is not present with pull policy of Never`,
		"Error: ErrImageNeverPull")
}
