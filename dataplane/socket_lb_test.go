package dataplane

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirnet/weir/dataplane/internal/testclient"
)

func countBackends(t *testing.T, res testclient.Result) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for i, b := range res.Backends {
		if res.Errnos[i] != "" {
			t.Fatalf("attempt %d: %s", i, res.Errnos[i])
		}
		seen[b]++
	}
	return seen
}

// TestSocketDistribution: 3,000 connections over 3 backends pass a
// chi-square test of uniformity (2 degrees of freedom, p = 0.001).
func TestSocketDistribution(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	mustSync(t, m, clusterIPService("web", TCP, 3, false))
	c := startClient(t, e.client, e.cgroup)

	const n = 3000
	seen := countBackends(t, c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: n, Linger0: true}))
	chi2 := 0.0
	for i := 1; i <= 3; i++ {
		o := float64(seen[fmt.Sprintf("be%d", i)])
		chi2 += (o - n/3) * (o - n/3) / (n / 3)
	}
	t.Logf("distribution %v, chi-square %.2f", seen, chi2)
	if chi2 > 13.82 {
		t.Errorf("distribution %v: chi-square %.2f > 13.82 (p < 0.001 for uniform)", seen, chi2)
	}
}

// TestSocketBackendRemoval: after a backend is removed no new connection
// reaches it, and established connections keep working.
func TestSocketBackendRemoval(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	mustSync(t, m, clusterIPService("web", TCP, 3, false))
	c := startClient(t, e.client, e.cgroup)

	held := countBackends(t, c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 30, Hold: true}))
	if held["be1"] == 0 || held["be2"] == 0 {
		t.Fatalf("held connections %v: want some on be1 and be2", held)
	}
	mustSync(t, m, clusterIPService("web", TCP, 2, false))
	after := countBackends(t, c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 300, Linger0: true}))
	if after["be3"] != 0 {
		t.Errorf("removed backend be3 still got %d of 300 new connections", after["be3"])
	}
	if p := c.do(t, testclient.Request{Op: "ping"}); p.Failed != 0 || p.OK != 30 {
		t.Errorf("established connections after the removal: %d ok, %d failed (%v)", p.OK, p.Failed, p.Errnos)
	}
}

// TestSocketNoBackends: a service without backends refuses at once.
func TestSocketNoBackends(t *testing.T) {
	e := newEnv(t, 1)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	mustSync(t, m, clusterIPService("web", TCP, 0, false), clusterIPService("dns", UDP, 0, false))
	c := startClient(t, e.client, e.cgroup)

	want := "ECONNREFUSED"
	if !m.hasSetRetval() {
		want = "EPERM" // kernels before 5.18 cannot choose the errno
	}
	res := c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 21})
	for i, errno := range res.Errnos {
		if errno != want {
			t.Fatalf("connect %d: %q, want %s", i, errno, want)
		}
	}
	durs := slices.Clone(res.DurUs)
	slices.Sort(durs)
	t.Logf("refused connects: median %dus, max %dus", durs[len(durs)/2], durs[len(durs)-1])
	if durs[len(durs)/2] >= 1000 {
		t.Errorf("median refused connect took %dus, want < 1ms", durs[len(durs)/2])
	}
	udp := c.do(t, testclient.Request{Op: "udp", Addr: "10.96.0.10:80", N: 3})
	for i, errno := range udp.Errnos {
		if errno != want {
			t.Errorf("sendto %d: %q, want %s", i, errno, want)
		}
	}
}

// TestSocketTerminatingFallback: terminating backends serve only when no
// ready backend is left.
func TestSocketTerminatingFallback(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	c := startClient(t, e.client, e.cgroup)
	svc := clusterIPService("web", TCP, 3, false)
	svc.Backends[1].Terminating = true
	svc.Backends[2].Terminating = true
	mustSync(t, m, svc)
	if got := countBackends(t, c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 30, Linger0: true})); got["be1"] != 30 {
		t.Errorf("with be1 ready: %v, want all on be1", got)
	}
	svc.Backends = svc.Backends[1:]
	mustSync(t, m, svc)
	got := countBackends(t, c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 30, Linger0: true}))
	if got["be1"] != 0 || got["be2"] == 0 || got["be3"] == 0 {
		t.Errorf("only terminating be2, be3 left: %v, want both used", got)
	}
}

// TestSocketAffinity: with sessionAffinity ClientIP a client keeps its
// backend within the timeout, and is balanced again after it.
func TestSocketAffinity(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	m := newTestManager(t, Config{CgroupPath: e.cgroup})
	svc := clusterIPService("web", TCP, 3, false)
	svc.AffinityTimeout = time.Second
	mustSync(t, m, svc)
	c := startClient(t, e.client, e.cgroup)

	req := testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 40, Linger0: true}
	first := countBackends(t, c.do(t, req))
	if len(first) != 1 {
		t.Fatalf("40 connections within the timeout went to %v, want one backend", first)
	}
	prev := keys(first)[0]
	for try := 0; try < 15; try++ {
		time.Sleep(1200 * time.Millisecond)
		got := countBackends(t, c.do(t, req))
		if len(got) != 1 {
			t.Fatalf("after expiry, 40 quick connections went to %v, want one backend", got)
		}
		if keys(got)[0] != prev {
			return // balanced again after the timeout
		}
	}
	t.Errorf("backend stayed %s over 15 timeouts: affinity never expired", prev)
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSocketRefuseWithoutSetRetval: the programs as loaded on kernels
// before 5.18 (no bpf_set_retval) still refuse at once, with EPERM.
func TestSocketRefuseWithoutSetRetval(t *testing.T) {
	e := newEnv(t, 1)
	m := newTestManager(t, Config{CgroupPath: e.cgroup, noSetRetval: true})
	mustSync(t, m, clusterIPService("web", TCP, 0, false))
	c := startClient(t, e.client, e.cgroup)
	for i, errno := range c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 3}).Errnos {
		if errno != "EPERM" {
			t.Errorf("connect %d: %q, want EPERM", i, errno)
		}
	}
}
