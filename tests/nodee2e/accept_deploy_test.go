package nodee2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	accApp = "acc-web"
	accSvc = "10.96.0.70"
)

// testDeploymentScale: 3 replicas Ready over both nodes with 3 ready
// addresses in the EndpointSlice; scaled to 5, 0 and back to 3.
func testDeploymentScale(t *testing.T, a *acc) {
	a.createTyped(t, gvrServices, accService(accApp, accSvc))
	created := time.Now()
	a.createTyped(t, gvrDeployments, accDeployment(accApp, 3))
	a.waitScaled(t, accApp, 3)
	t.Logf("created -> 3 pods Ready on 2 nodes and in the EndpointSlice: %v", time.Since(created).Round(time.Millisecond))
	for _, n := range []int64{5, 0, 3} {
		began := time.Now()
		a.scale(t, accApp, n)
		a.waitScaled(t, accApp, int(n))
		t.Logf("scaled to %d: %v", n, time.Since(began).Round(time.Millisecond))
	}
}

// ensureApp creates the Service and the Deployment of 3 when missing, so
// that a scenario also runs alone (go test -run TestPodsAcceptance/NAME).
func (a *acc) ensureApp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.api.Get(ctx, gvrDeployments, "default", accApp); err == nil {
		return
	}
	a.createTyped(t, gvrServices, accService(accApp, accSvc))
	a.createTyped(t, gvrDeployments, accDeployment(accApp, 3))
}

func (a *acc) scale(t *testing.T, name string, n int64) {
	t.Helper()
	a.modify(t, gvrDeployments, "default", name, func(o *unstructured.Unstructured) error {
		return unstructured.SetNestedField(o.Object, n, "spec", "replicas")
	})
}

// waitScaled waits until app has exactly n pods, none terminating, all
// Running and Ready with IPs, on both nodes when n >= 2, and the
// Service's EndpointSlices list exactly their IPs as ready.
func (a *acc) waitScaled(t *testing.T, app string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	var addrs map[string]bool
	waitDetail(t, fmt.Sprintf("%d pods of %s Ready and listed ready", n, app), 90*time.Second, func() bool {
		pods = a.podsBy(t, "app="+app)
		if len(pods) != n {
			return false
		}
		ips, nodes := map[string]bool{}, map[string]bool{}
		for i := range pods {
			if !podIsReady(&pods[i]) || pods[i].DeletionTimestamp != nil {
				return false
			}
			ips[pods[i].Status.PodIP], nodes[pods[i].Spec.NodeName] = true, true
		}
		if n >= 2 && len(nodes) < 2 {
			return false
		}
		var err error
		addrs, err = a.readyAddrs(t, app)
		return err == nil && sameSet(addrs, ips)
	}, func() string { return fmt.Sprintf("pods:%s\nready addresses %v", podSummary(pods), sortedKeys(addrs)) })
	return pods
}

// testContainerKill: SIGKILL of a container's task: restartCount +1, the
// pod leaves the EndpointSlice's ready addresses and returns once Ready.
func testContainerKill(t *testing.T, a *acc) {
	a.ensureApp(t)
	pods := a.waitScaled(t, accApp, 3)
	var p corev1.Pod
	for _, q := range pods {
		if q.Spec.NodeName == a.nodes[0].name {
			p = q
		}
	}
	if p.Name == "" || len(p.Status.ContainerStatuses) != 1 {
		t.Fatalf("no pod with one container on %s:%s", a.nodes[0].name, podSummary(pods))
	}
	restarts := p.Status.ContainerStatuses[0].RestartCount
	pid := taskPIDs(t, a.sock, "weir-"+a.nodes[0].name)[string(p.UID)+"-web"]
	if pid == 0 {
		t.Fatalf("no task for pod %s on %s", p.Name, a.nodes[0].name)
	}
	rec := a.recordReadiness(t, accApp, p.Name, p.Status.PodIP)
	killed := time.Now()
	if err := syscallKill(int(pid)); err != nil {
		t.Fatalf("kill the container of %s (PID %d): %v", p.Name, pid, err)
	}
	var now corev1.Pod
	waitDetail(t, "restartCount +1, Ready and listed ready again", 60*time.Second, func() bool {
		for _, q := range a.podsBy(t, "app="+accApp) {
			if q.UID == p.UID {
				now = q
			}
		}
		cs := now.Status.ContainerStatuses
		if len(cs) != 1 || cs[0].RestartCount != restarts+1 || !podIsReady(&now) {
			return false
		}
		addrs, err := a.readyAddrs(t, accApp)
		return err == nil && addrs[now.Status.PodIP]
	}, func() string { return podSummary([]corev1.Pod{now}) })
	back := time.Since(killed)
	notReady, left := rec.stop()
	t.Logf("killed -> restarted, Ready and listed again: %v; status Ready=False seen after %v, left the ready addresses after %v",
		back.Round(time.Millisecond), since(killed, notReady), since(killed, left))
	if notReady.IsZero() {
		t.Errorf("pod %s was never reported not Ready while its container was down", p.Name)
	}
	if left.IsZero() {
		t.Errorf("pod %s (%s) never left the EndpointSlice's ready addresses while its container was down", p.Name, p.Status.PodIP)
	}
}

func since(t0, t1 time.Time) string {
	if t1.IsZero() {
		return "never"
	}
	return t1.Sub(t0).Round(time.Millisecond).String()
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// waitDetail is waitFor with detail() in the timeout message.
func waitDetail(t *testing.T, what string, d time.Duration, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", d, what, detail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
