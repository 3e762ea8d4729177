package dataplane

import (
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/dataplane/internal/testclient"
	"github.com/weirnet/weir/tests/testutil"
)

// TestRestartAdoption: the process owning the dataplane exits and a new
// one adopts the pins, twice, while a client connects continuously; no
// connection fails, an unchanged restart writes nothing, and the ids
// survive (identical dumps).
func TestRestartAdoption(t *testing.T) {
	e := newEnv(t, 3)
	e.serveBackends(t, 8080)
	cfg := Config{Instance: testutil.UniqueName("weirtest-"), CgroupPath: e.cgroup}
	t.Cleanup(func() {
		if err := Cleanup(cfg); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	two := Desired{Services: []Service{clusterIPService("web", TCP, 2, false)}}
	three := Desired{Services: []Service{clusterIPService("web", TCP, 3, false)}}

	first := runOwner(t, cfg, two)
	c := startClient(t, e.client, e.cgroup)
	c.do(t, testclient.Request{Op: "loop-start", Addr: "10.96.0.10:80", PeriodUs: 500})
	time.Sleep(300 * time.Millisecond)

	second := runOwner(t, cfg, two)
	if !strings.Contains(second, "unchanged=1 writes=0") {
		t.Errorf("restart with unchanged services wrote to the maps:\n%s", second)
	}
	if dumpOf(first) != dumpOf(second) {
		t.Errorf("adopted state differs:\nbefore:\n%s\nafter:\n%s", dumpOf(first), dumpOf(second))
	}
	time.Sleep(300 * time.Millisecond)
	third := runOwner(t, cfg, three)
	if !strings.Contains(third, "updated=1") {
		t.Errorf("restart with one more backend did not update the service:\n%s", third)
	}
	time.Sleep(300 * time.Millisecond)

	res := c.do(t, testclient.Request{Op: "loop-stop"})
	t.Logf("continuous connections across two restarts: %d ok, %d failed", res.OK, res.Failed)
	if res.Failed != 0 || res.OK < 100 {
		t.Errorf("%d connections failed, %d succeeded (want 0 failed, >= 100 ok): %v", res.Failed, res.OK, res.Failures)
	}
	after := countBackends(t, c.do(t, testclient.Request{Op: "tcp", Addr: "10.96.0.10:80", N: 60, Linger0: true}))
	if after["be3"] == 0 {
		t.Errorf("backend added by the third owner got none of 60 connections: %v", after)
	}
}

// dumpOf drops the owner's stats line.
func dumpOf(out string) string {
	_, rest, _ := strings.Cut(out, "\n")
	return rest
}
