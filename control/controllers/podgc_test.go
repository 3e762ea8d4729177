package controllers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// readyNode creates node name and keeps it Ready with a heartbeat every
// 300 ms until the test ends, as its agent would.
func readyNode(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	n := &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := into(n)(c.CoreV1().Nodes().Create(bg, n, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	beat := func() {
		var cur corev1.Node
		if into(&cur)(c.CoreV1().Nodes().Get(bg, name, metav1.GetOptions{})) != nil {
			return
		}
		now := metav1.Now()
		cur.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: now, LastTransitionTime: now}}
		_ = discard(c.CoreV1().Nodes().UpdateStatus(bg, &cur, metav1.UpdateOptions{}))
	}
	beat()
	ctx, cancel := context.WithCancel(bg)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
				beat()
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// boundPod creates pod name on node with the given grace period.
func boundPod(t *testing.T, c kubernetes.Interface, name, node string, grace int64) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "c", Image: "busybox", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
	if err := into(p)(c.CoreV1().Pods("default").Create(bg, p, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	return p
}

func podState(c kubernetes.Interface, name string) (*corev1.Pod, string) {
	var p corev1.Pod
	if err := into(&p)(c.CoreV1().Pods("default").Get(bg, name, metav1.GetOptions{})); err != nil {
		return nil, err.Error()
	}
	return &p, ""
}

// TestTerminatingPodsForceDeletedOnLostNode: a terminating pod stays while
// its node is Ready (its agent will report it removed) even past its
// deadline; on a node that stopped heartbeating it is force-deleted once
// deletionTimestamp + grace has passed.
func TestTerminatingPodsForceDeletedOnLostNode(t *testing.T) {
	c := start(t)
	readyNode(t, c, "alive")
	lost := &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "lost"}}
	if err := into(lost)(c.CoreV1().Nodes().Create(bg, lost, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	lost.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: now, LastTransitionTime: now}}
	if err := discard(c.CoreV1().Nodes().UpdateStatus(bg, lost, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	keep := boundPod(t, c, "on-alive", "alive", 1)
	gone := boundPod(t, c, "on-lost", "lost", 1)
	start := time.Now()
	for _, p := range []*corev1.Pod{keep, gone} {
		var out corev1.Pod
		if err := deleteInto(c.CoreV1().RESTClient(), "pods", p.Name, delOpts(p.UID), &out); err != nil {
			t.Fatal(err)
		}
		if out.DeletionTimestamp == nil {
			t.Fatalf("pod %s was removed at once, want a graceful deletion", p.Name)
		}
	}
	eventually(t, func() string {
		if p, _ := podState(c, "on-lost"); p != nil {
			return fmt.Sprintf("pod on-lost still there (deletionTimestamp %v)", p.DeletionTimestamp)
		}
		return ""
	})
	// deletionTimestamp has whole seconds: deletionTimestamp + grace is 1-2 s after the DELETE
	if el := time.Since(start); el < time.Second {
		t.Errorf("force-deleted after %v, before deletionTimestamp + grace", el)
	}
	eventually(t, func() string { return findEvent(c, "default", "on-lost", "PodGCNodeNotReady") })
	if p, why := podState(c, "on-alive"); p == nil || p.DeletionTimestamp == nil {
		t.Fatalf("the terminating pod on the Ready node was force-deleted: %s", why)
	}
}

// TestOrphanPodsDeleted: pods bound to a node that does not exist are
// deleted, terminating or not.
func TestOrphanPodsDeleted(t *testing.T) {
	c := start(t)
	readyNode(t, c, "real")
	boundPod(t, c, "orphan", "ghost", 30)
	boundPod(t, c, "homed", "real", 30)
	eventually(t, func() string {
		if p, _ := podState(c, "orphan"); p != nil {
			return "pod orphan on a missing node still there"
		}
		return ""
	})
	eventually(t, func() string { return findEvent(c, "default", "orphan", "PodGCOrphaned") })
	if p, why := podState(c, "homed"); p == nil {
		t.Fatalf("a pod on an existing node was deleted: %s", why)
	}
}

// TestTerminatingPodsNotActive: a ReplicaSet replaces a pod that is being
// deleted gracefully at once (it does not count it), and the EndpointSlice
// shows the terminating pod as not ready, serving per its readiness,
// terminating.
func TestTerminatingPodsNotActive(t *testing.T) {
	c := start(t)
	readyNode(t, c, "node-a")
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	if err := into(svc)(c.CoreV1().Services("default").Create(bg, svc, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{TypeMeta: metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: int32p(1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate("web", "busybox")}}
	if err := into(rs)(c.AppsV1().ReplicaSets("default").Create(bg, rs, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	var first corev1.Pod
	eventually(t, func() string {
		pods := listPods(t, c, "default")
		if len(pods) != 1 {
			return fmt.Sprintf("%d pods, want 1", len(pods))
		}
		first = pods[0]
		return ""
	})
	if err := c.CoreV1().Pods("default").Bind(bg, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: first.Name, UID: first.UID}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-a"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := into(&first)(c.CoreV1().Pods("default").Get(bg, first.Name, metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	if err := setPodStatus(c, &first, corev1.PodRunning, true, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string { return sliceConditions(c, "10.0.0.1", true, true, false) })
	var out corev1.Pod
	if err := deleteInto(c.CoreV1().RESTClient(), "pods", first.Name, delOpts(first.UID), &out); err != nil || out.DeletionTimestamp == nil {
		t.Fatalf("graceful delete: %v, deletionTimestamp %v", err, out.DeletionTimestamp)
	}
	eventually(t, func() string { return sliceConditions(c, "10.0.0.1", false, true, true) })
	eventually(t, func() string {
		pods := listPods(t, c, "default")
		if len(pods) != 2 {
			return fmt.Sprintf("%d pods, want the terminating one and its replacement", len(pods))
		}
		var got appsv1.ReplicaSet
		if err := into(&got)(c.AppsV1().ReplicaSets("default").Get(bg, "web", metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		if got.Status.Replicas != 1 {
			return fmt.Sprintf("status.replicas %d, want 1 (the terminating pod is not counted)", got.Status.Replicas)
		}
		return ""
	})
}

// sliceConditions checks the conditions of ip's endpoint in the web slice.
func sliceConditions(c kubernetes.Interface, ip string, ready, serving, terminating bool) string {
	var l discoveryv1.EndpointSliceList
	if err := into(&l)(c.DiscoveryV1().EndpointSlices("default").List(bg, metav1.ListOptions{})); err != nil {
		return err.Error()
	}
	for _, s := range l.Items {
		for _, e := range s.Endpoints {
			if e.Addresses[0] != ip {
				continue
			}
			cd := e.Conditions
			if *cd.Ready != ready || *cd.Serving != serving || *cd.Terminating != terminating {
				return fmt.Sprintf("endpoint %s ready %v serving %v terminating %v; want %v %v %v", ip, *cd.Ready, *cd.Serving, *cd.Terminating, ready, serving, terminating)
			}
			return ""
		}
	}
	return "no endpoint " + ip
}
