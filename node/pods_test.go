package node

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime"
)

// sink records what the reporter sent; down makes it fail like a stream
// that is not connected.
type sink struct {
	mu   sync.Mutex
	down bool
	got  map[string][]corev1.PodPhase
}

func (s *sink) send(p podReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return ErrNotConnected
	}
	key := p.namespace + "/" + p.name
	s.got[key] = append(s.got[key], p.status.Phase)
	return nil
}

// rep is a runtime report of a pod with UID "uid-"+name.
func rep(ns, name string, phase corev1.PodPhase) runtime.PodReport {
	return runtime.PodReport{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Status: corev1.PodStatus{Phase: phase}}
}

func (s *sink) phases(key string) []corev1.PodPhase {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]corev1.PodPhase(nil), s.got[key]...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runSender(t *testing.T, r *podReports, s *sink) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.sendPodStatuses(ctx, s.send) }()
	return func() error { cancel(); return <-done }
}

func TestPodReportsLatestResentAfterReconnect(t *testing.T) {
	r := newPodReports()
	s := &sink{got: map[string][]corev1.PodPhase{}}
	stop := runSender(t, r, s)
	r.report(rep("default", "a", corev1.PodPending))
	waitUntil(t, "Pending sent", func() bool { return len(s.phases("default/a")) == 1 })
	r.report(rep("default", "a", corev1.PodPending)) // unchanged: not sent again
	r.report(rep("default", "b", corev1.PodPending))
	waitUntil(t, "b sent", func() bool { return len(s.phases("default/b")) == 1 })
	if got := s.phases("default/a"); len(got) != 1 {
		t.Fatalf("an unchanged status was sent again: %v", got)
	}

	// The stream goes down: reports made meanwhile are kept, only the latest.
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	r.report(rep("default", "a", corev1.PodRunning))
	waitUntil(t, "sender gave up on the down stream", func() bool { return len(r.unsent()) == 1 })
	if err := stop(); err != nil {
		t.Fatalf("sender: %v", err)
	}
	r.report(rep("default", "a", corev1.PodSucceeded))
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()

	// A new session sends every pod's latest status once.
	stop = runSender(t, r, s)
	defer stop()
	waitUntil(t, "resent after reconnect", func() bool { return len(s.phases("default/b")) == 2 })
	waitUntil(t, "a's latest", func() bool { return len(s.phases("default/a")) == 2 })
	if got := s.phases("default/a"); got[1] != corev1.PodSucceeded {
		t.Fatalf("after the reconnect a got %v, want the latest (Succeeded) only", got)
	}
}

func TestPodReportsPrune(t *testing.T) {
	r := newPodReports()
	r.report(rep("default", "gone", corev1.PodRunning))
	r.report(rep("default", "kept", corev1.PodRunning))
	r.prune(map[string]bool{"default/kept": true})
	if len(r.unsent()) != 2 {
		t.Fatalf("an unsent status was pruned: %v", r.unsent())
	}
	for _, p := range r.unsent() {
		r.markSent(p)
	}
	r.prune(map[string]bool{"default/kept": true})
	r.resendAll()
	if u := r.unsent(); len(u) != 1 || u[0].name != "kept" {
		t.Fatalf("after prune: %v, want only kept", u)
	}
	// A newer status than the one sent stays unsent.
	p := r.unsent()[0]
	r.report(rep("default", "kept", corev1.PodFailed))
	r.markSent(p)
	if u := r.unsent(); len(u) != 1 || u[0].status.Phase != corev1.PodFailed {
		t.Fatalf("a newer status was marked sent: %v", u)
	}
}

// recorder is a PodRuntime that records the last Sync.
type recorder struct{ last []string }

func (r *recorder) Sync(pods []corev1.Pod) {
	r.last = nil
	for _, p := range pods {
		r.last = append(r.last, p.Name)
	}
}
func (r *recorder) Close() {}

func TestSyncPodsOnlyThisNode(t *testing.T) {
	rec := &recorder{}
	a := &Agent{cfg: Config{NodeName: "n1"}, state: NewState(), reports: newPodReports(), pods: rec}
	for _, p := range []corev1.Pod{
		{Spec: corev1.PodSpec{NodeName: "n1"}}, {Spec: corev1.PodSpec{NodeName: "n2"}}, {Spec: corev1.PodSpec{}},
	} {
		p.Namespace, p.Name = "default", "on-"+p.Spec.NodeName
		a.state.pods[p.Namespace+"/"+p.Name] = p
	}
	a.syncPods()
	if len(rec.last) != 1 || rec.last[0] != "on-n1" {
		t.Fatalf("runtime got %v, want only the pod bound to n1", rec.last)
	}
}

func TestClusterDNS(t *testing.T) {
	for _, tc := range []struct{ in, cidr, want, err string }{
		{"", "10.96.0.0/12", "", ""},
		{"auto", "10.96.0.0/12", "10.96.0.10", ""},
		{"auto", "10.100.0.0/24", "10.100.0.10", ""},
		{"auto", "10.0.0.0/29", "", "no 10th address"},
		{"10.96.0.53", "", "10.96.0.53", ""},
		{"kube-dns", "10.96.0.0/12", "", "want an IP"},
	} {
		got, err := clusterDNS(tc.in, tc.cidr)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("clusterDNS(%q, %q) = %q, %v; want %q, error containing %q", tc.in, tc.cidr, got, err, tc.want, tc.err)
		}
	}
}

func TestReportPodNoRunningToPending(t *testing.T) {
	a := &Agent{cfg: Config{NodeName: "n1", Addresses: []string{"192.0.2.1"}}, state: NewState(), reports: newPodReports()}
	a.state.pods["default/up"] = corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	a.reportPod(rep("default", "up", corev1.PodPending))
	a.reportPod(rep("default", "new", corev1.PodPending))
	u := a.reports.unsent()
	if len(u) != 1 || u[0].name != "new" || u[0].status.HostIP != "192.0.2.1" || len(u[0].status.HostIPs) != 1 {
		t.Fatalf("unsent %+v: want only new, with hostIP 192.0.2.1", u)
	}
	a.reportPod(rep("default", "up", corev1.PodRunning))
	if u := a.reports.unsent(); len(u) != 2 {
		t.Fatalf("the Running status of the adopted pod was not kept: %+v", u)
	}
}

// A removed report replaces the pod's last status even when the status is
// unchanged, goes out with its UID, is resent after a reconnect, and the
// Pending filter does not hold it back.
func TestPodReportsRemoved(t *testing.T) {
	a := &Agent{cfg: Config{NodeName: "n1"}, state: NewState(), reports: newPodReports()}
	a.state.pods["default/web"] = corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	a.reportPod(rep("default", "web", corev1.PodRunning))
	for _, p := range a.reports.unsent() {
		a.reports.markSent(p)
	}
	gone := rep("default", "web", corev1.PodRunning)
	gone.Removed = true
	a.reportPod(gone)
	u := a.reports.unsent()
	if len(u) != 1 || !u[0].removed || u[0].uid != "uid-web" {
		t.Fatalf("unsent %+v: want the removed report of uid-web", u)
	}
	a.reportPod(rep("default", "web", corev1.PodSucceeded)) // a straggler does not replace the last word
	if u := a.reports.unsent(); len(u) != 1 || !u[0].removed {
		t.Fatalf("a report after the removed one replaced it: %+v", u)
	}
	a.reports.markSent(u[0])
	a.reports.resendAll()
	if u := a.reports.unsent(); len(u) != 1 || !u[0].removed {
		t.Fatalf("after a reconnect %+v: want the removed report again", u)
	}
	a.reports.markSent(u[0])
	a.reports.prune(map[string]bool{})
	if len(a.reports.latest) != 0 {
		t.Fatalf("the removed report outlived its pod: %+v", a.reports.latest)
	}
	pending := rep("default", "web", corev1.PodPending)
	pending.Removed = true
	a.reportPod(pending)
	if u := a.reports.unsent(); len(u) != 1 || !u[0].removed {
		t.Fatalf("a removed Pending report was held back: %+v", u)
	}
}
