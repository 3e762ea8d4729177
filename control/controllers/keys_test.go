package controllers_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

// reconciles records which keys each controller reconciled.
type reconciles struct {
	mu   sync.Mutex
	keys map[string]map[string]int // controller -> key -> count
}

func (r *reconciles) record(controller, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys[controller] == nil {
		r.keys[controller] = map[string]int{}
	}
	r.keys[controller][key]++
}

// take returns what was recorded since the last take.
func (r *reconciles) take() map[string]map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.keys
	r.keys = map[string]map[string]int{}
	return out
}

func total(m map[string]map[string]int) int {
	n := 0
	for _, keys := range m {
		for _, c := range keys {
			n += c
		}
	}
	return n
}

// TestPodChangeReconcilesOnlyItsKeys: in a cluster with 200 Services, a
// ReplicaSet's pod turning Ready reconciles the one Service that selects
// it (EndpointSlice controller) and its ReplicaSet, and nothing else: no
// other Service, no Deployment, Job, namespace, node or garbage
// collection key.
func TestPodChangeReconcilesOnlyItsKeys(t *testing.T) {
	c := kubetest.New(t)
	const services = 200
	for i := range services {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%03d", i), Namespace: "default"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": fmt.Sprintf("svc-%03d", i)},
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
		if _, err := c.CoreV1().Services("default").Create(bg, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: int32p(1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "svc-007"}},
			Template: podTemplate("svc-007", "busybox")}}
	if _, err := c.AppsV1().ReplicaSets("default").Create(bg, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec := &reconciles{keys: map[string]map[string]int{}}
	runManager(t, controllers.New(controllers.Config{Client: c, Logger: storetest.Logger(), Resync: 200 * time.Millisecond,
		OnReconcile: rec.record}))

	// Settle: every Service has its (empty) slice, the pod exists, and no
	// reconciliation happens for a while.
	eventually(t, func() string {
		l, err := c.DiscoveryV1().EndpointSlices("default").List(bg, metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		if n := countManaged(l.Items); n != services {
			return fmt.Sprintf("%d managed slices, want %d", n, services)
		}
		if n := len(listPods(t, c, "default")); n != 1 {
			return fmt.Sprintf("%d pods, want 1", n)
		}
		return ""
	})
	first := rec.take()
	if n := len(first["endpointslice"]); n < services {
		t.Fatalf("initial sync reconciled %d services, want all %d", n, services)
	}
	eventually(t, func() string {
		time.Sleep(500 * time.Millisecond)
		if n := total(withoutTicks(rec.take())); n != 0 {
			return fmt.Sprintf("%d reconciles in 500ms; not settled", n)
		}
		return ""
	})

	pod := listPods(t, c, "default")[0]
	if err := setPodStatus(c, &pod, corev1.PodRunning, true, "10.0.0.7"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string { return sliceConditions(c, "10.0.0.7", true, true, false) })
	time.Sleep(time.Second) // let trailing events (the slice, the ReplicaSet's status) be handled
	got := withoutTicks(rec.take())
	t.Logf("reconciles after one pod change: %v", got)
	// The ready pod moves svc-007 from its empty slice to a new one: the
	// garbage collector looks at the new slice (a new object with an
	// owner), nothing else.
	want := map[string]func(string) bool{
		"endpointslice":    func(k string) bool { return k == "default/svc-007" },
		"replicaset":       func(k string) bool { return k == "default/web" },
		"garbagecollector": func(k string) bool { return strings.HasPrefix(k, "EndpointSlice/default/svc-007-") },
	}
	for ctrl, keys := range got {
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if ok := want[ctrl]; ok == nil || !ok(k) {
				t.Errorf("controller %s reconciled %s, which the pod change does not affect", ctrl, k)
			}
		}
	}
	if got["endpointslice"]["default/svc-007"] == 0 {
		t.Errorf("the pod's Service was not reconciled")
	}
	if n := total(got); n > 10 {
		t.Errorf("%d reconciles for one pod change, want a handful", n)
	}
}

// withoutTicks drops the controllers driven by a clock rather than by
// events (the members probe and the event TTL).
func withoutTicks(m map[string]map[string]int) map[string]map[string]int {
	delete(m, "apiendpoints")
	delete(m, "eventttl")
	return m
}

func countManaged(slices []discoveryv1.EndpointSlice) int {
	n := 0
	for _, s := range slices {
		if s.Labels[discoveryv1.LabelManagedBy] == controllers.ManagedBy {
			n++
		}
	}
	return n
}
