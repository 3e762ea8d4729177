package nodee2e

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// testRollingUpdate: a template change rolls the Deployment (maxSurge 1,
// maxUnavailable 0, readiness on /healthz) while a client on node 2 asks
// the ClusterIP without pause: no request may fail, and every pod ends on
// the new ReplicaSet.
func testRollingUpdate(t *testing.T, a *acc) {
	a.ensureApp(t)
	old := a.waitScaled(t, accApp, 3)
	oldHash := old[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	l := startLoad(t, a.nodes[1], "http://"+accSvc+"/")
	began := time.Now()
	a.modify(t, gvrDeployments, "default", accApp, func(o *unstructured.Unstructured) error {
		return unstructured.SetNestedStringMap(o.Object, map[string]string{"weir.test/revision": "2"}, "spec", "template", "metadata", "annotations")
	})
	var pods []corev1.Pod
	waitDetail(t, "every pod on the new ReplicaSet, Ready and listed", 120*time.Second, func() bool {
		pods = a.podsBy(t, "app="+accApp)
		for _, p := range pods {
			if p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == oldHash {
				return false
			}
		}
		return len(pods) == 3
	}, func() string { return podSummary(pods) })
	pods = a.waitScaled(t, accApp, 3)
	rolled := time.Since(began)
	time.Sleep(2 * time.Second) // the new endpoints keep answering
	l.end()
	t.Logf("rolled 3 pods (hash %s -> %s) in %v under load: %s", oldHash, pods[0].Labels[appsv1.DefaultDeploymentUniqueLabelKey], rolled.Round(time.Millisecond), l.report())
	if ok, failed := l.counts(); failed != 0 || ok == 0 {
		t.Errorf("rolling update: %s; want no failures", l.report())
	}
	for _, p := range pods {
		if a := p.Annotations["weir.test/revision"]; a != "2" {
			t.Errorf("pod %s has revision annotation %q, want 2", p.Name, a)
		}
	}
}

// testAgentKill: SIGKILL of node 1's agent: the Node turns Unknown, its
// pods are evicted after the pod eviction timeout and recreated on the
// other node(s), while a client on node 2 keeps asking the ClusterIP.
func testAgentKill(t *testing.T, a *acc) {
	a.ensureApp(t)
	dead, live := a.nodes[0], a.nodes[1]
	onDead := map[string]bool{}
	for _, p := range a.waitScaled(t, accApp, 3) {
		if p.Spec.NodeName == dead.name {
			onDead[p.Name] = true
		}
	}
	l := startLoad(t, live, "http://"+accSvc+"/")
	killed := time.Now()
	dead.agent.kill(syscall.SIGKILL)
	waitDetail(t, dead.name+" Ready=Unknown", 60*time.Second, func() bool { return a.nodeStatus(dead.name) == "Unknown" },
		func() string { return "Ready=" + a.nodeStatus(dead.name) })
	unknown := time.Since(killed)
	var pods []corev1.Pod
	var addrs map[string]bool
	var evicted time.Time
	waitDetail(t, "3 Ready pods off "+dead.name+" and only them listed ready", 90*time.Second, func() bool {
		pods = a.podsBy(t, "app="+accApp)
		left := 0
		for _, p := range pods {
			if onDead[p.Name] && p.DeletionTimestamp == nil {
				left++
			}
		}
		if left < len(onDead) && evicted.IsZero() {
			evicted = time.Now()
		}
		ips := map[string]bool{}
		for i := range pods {
			p := &pods[i]
			if p.DeletionTimestamp != nil {
				continue
			}
			if p.Spec.NodeName == dead.name || !podIsReady(p) {
				return false
			}
			ips[p.Status.PodIP] = true
		}
		var err error
		addrs, err = a.readyAddrs(t, accApp)
		return len(ips) == 3 && err == nil && sameSet(addrs, ips)
	}, func() string { return fmt.Sprintf("pods:%s\nready addresses %v", podSummary(pods), sortedKeys(addrs)) })
	moved := time.Now()
	t.Logf("%d pods on %s; the first evicted %v after the kill, %v after the Node turned Unknown (pod eviction timeout %s)",
		len(onDead), dead.name, since(killed, evicted), evicted.Sub(killed.Add(unknown)).Round(time.Millisecond), accEviction)
	if len(onDead) == 0 {
		t.Errorf("no pod of %s ran on %s: nothing was evicted", accApp, dead.name)
	} else if d := evicted.Sub(killed.Add(unknown)); d < time.Second {
		t.Errorf("pods were evicted %v after the Node turned Unknown, before the %s eviction timeout", d, accEviction)
	}
	time.Sleep(3 * time.Second)
	l.end()
	t.Logf("agent killed -> Node Unknown %v -> pods Ready off %s and listed %v; client: %s, %d failures after the move",
		unknown.Round(time.Millisecond), dead.name, moved.Sub(killed).Round(time.Millisecond), l.report(), l.failsAfter(moved))
	if _, failed := l.counts(); failed != 0 {
		t.Errorf("the Service failed %d requests while the agent was dead (%d after the pods moved): %s", failed, l.failsAfter(moved), l.report())
	}
}

// nodeStatus is the status of Node name's Ready condition ("" if none).
func (a *acc) nodeStatus(name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	obj, err := a.api.Get(ctx, gvrNodes, "", name)
	if err != nil {
		return ""
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, cd := range conds {
		if m, _ := cd.(map[string]any); m["type"] == "Ready" {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}
