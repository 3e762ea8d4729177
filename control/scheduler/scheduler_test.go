package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/scheduler"
	"github.com/weirnet/weir/control/store/storetest"
)

func startScheduler(t *testing.T, c kubernetes.Interface) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { scheduler.New(scheduler.Config{Client: c, Logger: storetest.Logger()}).Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func createNode(t *testing.T, c kubernetes.Interface, name, cpu string, taints ...corev1.Taint) {
	t.Helper()
	ctx := context.Background()
	n := &corev1.Node{
		TypeMeta:   metav1.TypeMeta{Kind: "Node", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}},
		Spec:       corev1.NodeSpec{Taints: taints},
	}
	out := &corev1.Node{}
	if err := into(out)(c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
	out.Status.Allocatable = corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods: resource.MustParse("110"),
	}
	out.Status.Capacity = out.Status.Allocatable
	if err := discard(c.CoreV1().Nodes().UpdateStatus(ctx, out, metav1.UpdateOptions{})); err != nil {
		t.Fatalf("set node %s status: %v", name, err)
	}
}

func createPod(t *testing.T, c kubernetes.Interface, name, cpu string) {
	t.Helper()
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}}},
	}
	if err := discard(c.CoreV1().Pods("default").Create(context.Background(), p, metav1.CreateOptions{})); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
}

func getPod(t *testing.T, c kubernetes.Interface, name string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{}
	if err := into(p)(c.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})); err != nil {
		t.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

// TestSchedulerBindsAndReportsUnschedulable runs the loop against a real
// API: pods spread over the nodes; a pod too large for any node gets
// PodScheduled=False with the per-node reasons and a FailedScheduling
// event, and is bound once a node that fits joins.
func TestSchedulerBindsAndReportsUnschedulable(t *testing.T) {
	c := kubetest.New(t)
	createNode(t, c, "small-1", "1")
	createNode(t, c, "small-2", "1")
	createNode(t, c, "gpu", "16", corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule})
	startScheduler(t, c)

	for i := range 4 {
		createPod(t, c, fmt.Sprintf("web-%d", i), "200m")
	}
	createPod(t, c, "big", "4")
	kubetest.Eventually(t, 30*time.Second, func() string {
		per := map[string]int{}
		for i := range 4 {
			n := getPod(t, c, fmt.Sprintf("web-%d", i)).Spec.NodeName
			if n == "" {
				return fmt.Sprintf("web-%d not bound yet", i)
			}
			per[n]++
		}
		if per["small-1"] != 2 || per["small-2"] != 2 {
			return fmt.Sprintf("spread %v, want 2 on each small node", per)
		}
		return ""
	})
	want := "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}."
	kubetest.Eventually(t, 30*time.Second, func() string {
		p := getPod(t, c, "big")
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == "Unschedulable" && cond.Message == want {
				return ""
			}
		}
		return fmt.Sprintf("big: node %q conditions %+v", p.Spec.NodeName, p.Status.Conditions)
	})
	kubetest.Eventually(t, 30*time.Second, func() string { return findEvent(c, "big", "FailedScheduling", want) })

	createNode(t, c, "large", "8")
	kubetest.Eventually(t, 30*time.Second, func() string {
		if n := getPod(t, c, "big").Spec.NodeName; n != "large" {
			return fmt.Sprintf("big on %q, want large", n)
		}
		return ""
	})
	kubetest.Eventually(t, 30*time.Second, func() string {
		return findEvent(c, "big", "Scheduled", "Successfully assigned default/big to large")
	})
}

func findEvent(c kubernetes.Interface, pod, reason, msg string) string {
	var list corev1.EventList
	if err := into(&list)(c.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})); err != nil {
		return err.Error()
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name == pod && e.Reason == reason && e.Message == msg {
			return ""
		}
	}
	return fmt.Sprintf("no %s event %q on %s among %d events", reason, msg, pod, len(list.Items))
}

// TestSchedulerBurstFits: a burst of pods bound concurrently (maxBinds in
// flight) still respects each node's capacity: 40 pods of 100m onto four
// 1-CPU nodes land exactly 10 per node, and a 41st stays pending.
func TestSchedulerBurstFits(t *testing.T) {
	c := kubetest.New(t)
	for i := range 4 {
		createNode(t, c, fmt.Sprintf("n%d", i), "1")
	}
	startScheduler(t, c)
	for i := range 41 {
		createPod(t, c, fmt.Sprintf("burst-%02d", i), "100m")
	}
	kubetest.Eventually(t, 60*time.Second, func() string {
		per, pending := map[string]int{}, 0
		for i := range 41 {
			if n := getPod(t, c, fmt.Sprintf("burst-%02d", i)).Spec.NodeName; n != "" {
				per[n]++
			} else {
				pending++
			}
		}
		for n, k := range per {
			if k > 10 {
				t.Fatalf("node %s got %d pods of 100m with 1 CPU: %v", n, k, per)
			}
		}
		if pending != 1 || len(per) != 4 {
			return fmt.Sprintf("per node %v, %d pending; want 10 on each and 1 pending", per, pending)
		}
		return ""
	})
}

// into stores a typed call's answer into dst and returns its error.
func into[T any](dst *T) func(*T, error) error {
	return func(v *T, err error) error {
		if err == nil {
			*dst = *v
		}
		return err
	}
}

// discard drops a typed call's answer and returns its error.
func discard[T any](_ *T, err error) error { return err }
