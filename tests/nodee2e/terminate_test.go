package nodee2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/node/runtime/testimage"
)

const termApp = "term-e2e"

func termPod(name, node string, grace int64, cmd ...string) *corev1.Pod {
	c := corev1.Container{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever, Args: []string{"-udp-echo="},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}
	if len(cmd) > 0 {
		c.Command, c.Args, c.Ports = cmd, nil, nil
	}
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": termApp}},
		Spec:       corev1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{c}}}
}

// getPod reads pod name; ok is false once it is gone from the API.
func (c *cluster) getPod(t *testing.T, name string) (p corev1.Pod, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj, err := c.api.Get(ctx, gvrPods, "default", name)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return p, false
		}
		t.Logf("get pod %s: %v", name, err)
		return p, true
	}
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &p); err != nil {
		t.Fatalf("decode pod: %v", err)
	}
	return p, true
}

func (c *cluster) deletePod(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.api.Delete(ctx, gvrPods, "default", name); err != nil {
		t.Fatalf("delete pod %s: %v", name, err)
	}
}

// endpointState is ip's endpoint in the Service's slices: "ready",
// "terminating" (ready false, terminating true) or "" (absent or other).
func (c *cluster) endpointState(t *testing.T, ip string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.api.List(ctx, gvrSlices, "default", listOpts("kubernetes.io/service-name="+termApp))
	if err != nil {
		return ""
	}
	for _, item := range list.Items {
		var s discoveryv1.EndpointSlice
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &s); err != nil {
			t.Fatalf("decode EndpointSlice: %v", err)
		}
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) == 0 || ep.Addresses[0] != ip {
				continue
			}
			cd := ep.Conditions
			switch {
			case cd.Ready != nil && *cd.Ready:
				return "ready"
			case cd.Terminating != nil && *cd.Terminating:
				return "terminating"
			}
		}
	}
	return ""
}

// TestGracefulTermination: a deleted pod stays in the API with a
// deletionTimestamp while its container drains after SIGTERM (its
// /healthz fails), leaves the EndpointSlice's ready addresses at once,
// and disappears from the API as soon as the agent reports it removed,
// well before its grace period ends. A pod ignoring SIGTERM is SIGKILLed
// when its 2 s grace period ends, then removed.
func TestGracefulTermination(t *testing.T) {
	start := time.Now()
	c, n, sock, uids := onePodNode(t)

	c.createTyped(t, gvrServices, &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: termApp, Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.80", Selector: map[string]string{"app": termApp},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}})
	c.createTyped(t, gvrPods, termPod("web", n.name, 20))
	c.createTyped(t, gvrPods, termPod("stubborn", n.name, 2, "sh", "-c", `trap "" TERM; sleep 1000`))
	var web corev1.Pod
	waitFor(t, "both pods Running with IPs", 60*time.Second, func() bool {
		var ok bool
		web, ok = c.getPod(t, "web")
		s, _ := c.getPod(t, "stubborn")
		uids.add(string(web.UID))
		uids.add(string(s.UID))
		return ok && web.Status.Phase == corev1.PodRunning && web.Status.PodIP != "" && s.Status.Phase == corev1.PodRunning
	})
	ip := web.Status.PodIP
	waitFor(t, "web ready in the EndpointSlice", 30*time.Second, func() bool { return c.endpointState(t, ip) == "ready" })
	t.Logf("cluster up and pods Running in %v", time.Since(start).Round(time.Millisecond))

	// web: SIGTERM, drained, removed on the agent's report.
	t0 := time.Now()
	c.deletePod(t, "web")
	if p, ok := c.getPod(t, "web"); !ok || p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 20 {
		t.Fatalf("right after DELETE: present %v, deletionTimestamp %v grace %v; want Terminating with grace 20", ok, p.DeletionTimestamp, p.DeletionGracePeriodSeconds)
	}
	waitFor(t, "web terminating in the EndpointSlice", 10*time.Second, func() bool { return c.endpointState(t, ip) == "terminating" })
	sawDrain := false
	waitFor(t, "web draining after SIGTERM (/healthz 503) or gone", 10*time.Second, func() bool {
		out, _ := httpFromNode(n, "http://"+ip+":8080/healthz")
		sawDrain = strings.Contains(out, "503")
		_, there := c.getPod(t, "web")
		return sawDrain || !there
	})
	if !sawDrain {
		t.Errorf("web never answered 503 on /healthz after SIGTERM: it did not drain")
	}
	if p, ok := c.getPod(t, "web"); sawDrain && (!ok || p.DeletionTimestamp == nil) {
		t.Errorf("web gone from the API while its container still drained")
	}
	waitFor(t, "web removed from the API", 15*time.Second, func() bool { _, ok := c.getPod(t, "web"); return !ok })
	if d := time.Since(t0); d > 15*time.Second {
		t.Errorf("web took %v to go: not removed on the agent's report but at the end of its 20 s grace", d)
	}
	t.Logf("web: DELETE -> gone from the API in %v", time.Since(t0).Round(time.Millisecond))
	if k, err := containerCount(sock, "weir-"+n.name); err != nil || k != 1 {
		t.Errorf("containers after web went: %d %v, want only stubborn's", k, err)
	}

	// stubborn ignores SIGTERM: SIGKILL at the end of its 2 s grace.
	t1 := time.Now()
	c.deletePod(t, "stubborn")
	time.Sleep(time.Second)
	if p, ok := c.getPod(t, "stubborn"); !ok || p.DeletionTimestamp == nil {
		t.Fatalf("stubborn gone 1 s after DELETE, before its 2 s grace period: SIGTERM killed it?")
	}
	waitFor(t, "stubborn removed from the API", 20*time.Second, func() bool { _, ok := c.getPod(t, "stubborn"); return !ok })
	d := time.Since(t1)
	if d < 1500*time.Millisecond || d > 12*time.Second {
		t.Errorf("stubborn went %v after DELETE, want about its 2 s grace period", d)
	}
	t.Logf("stubborn: DELETE -> SIGKILL -> gone from the API in %v; test total %v", d.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	waitFor(t, "no containers left", 10*time.Second, func() bool {
		k, err := containerCount(sock, "weir-"+n.name)
		return err == nil && k == 0
	})
}
