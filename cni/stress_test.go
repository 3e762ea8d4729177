package cni_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/weirnet/weir/cni"
	"github.com/weirnet/weir/tests/testutil"
)

var kills = flag.Int("cni.kills", 0, "kill -9 rounds in TestKillMidAdd (default 500, 100 with -short)")

// TestConcurrentAdds runs 64 ADD processes at once, each for its own pod
// namespace: every one succeeds with a distinct address, and 64 concurrent
// DELs release them all.
func TestConcurrentAdds(t *testing.T) {
	n := newNode(t)
	conf := n.conf("1.1.0", nil)
	const procs = 64
	pods := make([]*testutil.Netns, procs)
	for i := range pods {
		pods[i] = testutil.NewNetns(t, "p")
	}
	outs := make([]outcome, procs)
	parallel(procs, func(i int) {
		outs[i] = n.run(call{cmd: "ADD", id: fmt.Sprintf("conc-%d", i), netns: "/run/netns/" + pods[i].Name, ifname: "eth0", stdin: conf})
	})
	seen := map[string]int{}
	for i, o := range outs {
		res := o.ok(t, fmt.Sprintf("ADD %d", i)).result(t)
		a := res.IPs[0].Address.IP.String()
		if j, dup := seen[a]; dup {
			t.Fatalf("ADD %d and %d both got %s", i, j, a)
		}
		seen[a] = i
	}
	if a := n.allocations(); len(a) != procs {
		t.Fatalf("%d allocations recorded, want %d", len(a), procs)
	}
	parallel(procs, func(i int) {
		outs[i] = n.run(call{cmd: "DEL", id: fmt.Sprintf("conc-%d", i), netns: "/run/netns/" + pods[i].Name, ifname: "eth0", stdin: conf})
	})
	for i, o := range outs {
		o.ok(t, fmt.Sprintf("DEL %d", i))
	}
	if a := n.allocations(); len(a) != 0 {
		t.Fatalf("allocations after concurrent DELs: %v", a)
	}
}

func parallel(count int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := 0; i < count; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); fn(i) }()
	}
	wg.Wait()
}

// TestExhaustion: a /29 serves five pods; the sixth ADD fails with code 50
// and leaves nothing behind; after a DEL the next ADD succeeds.
func TestExhaustion(t *testing.T) {
	n := newNode(t)
	pod := testutil.NewNetns(t, "p")
	conf := n.conf("1.1.0", map[string]any{"podCIDR": "10.30.0.0/29"})
	add := func(i int) outcome {
		return n.run(call{cmd: "ADD", id: "ex", netns: "/run/netns/" + pod.Name, ifname: fmt.Sprintf("eth%d", i), stdin: conf})
	}
	for i := 0; i < 5; i++ {
		add(i).ok(t, fmt.Sprintf("ADD %d", i))
	}
	add(5).code(t, "sixth ADD", types.ErrPluginNotAvailable, "no free address", "10.30.0.0/29")
	if contains(links(t, pod.Name), "eth5") || contains(links(t, n.host.Name), cni.HostVethName("ex", "eth5")) {
		t.Fatal("failed ADD left links behind")
	}
	n.run(call{cmd: "DEL", id: "ex", ifname: "eth2", stdin: conf}).ok(t, "DEL eth2")
	add(5).ok(t, "ADD after DEL")
}

// TestKillMidAdd kills ADD processes with SIGKILL at random moments. No
// address may ever be owned twice, every host veth must have its
// allocation, and GC with the completed ADDs as the valid attachments must
// reclaim every leak: allocations and links.
func TestKillMidAdd(t *testing.T) {
	rounds := *kills
	if rounds == 0 {
		rounds = 500
		if testing.Short() {
			rounds = 100
		}
	}
	n := newNode(t)
	pod := testutil.NewNetns(t, "p")
	conf := n.conf("1.1.0", map[string]any{"podCIDR": "10.40.0.0/16"})
	maxDelay := addDuration(t, n, pod, conf)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	var valid []types.GCAttachment
	for round := 0; round < rounds; round++ {
		c := call{cmd: "ADD", id: fmt.Sprintf("kill-%d", round), netns: "/run/netns/" + pod.Name, ifname: fmt.Sprintf("k%d", round), stdin: conf}
		if killedAdd(t, n, c, time.Duration(rng.Int64N(int64(maxDelay)))) {
			continue
		}
		valid = append(valid, types.GCAttachment{ContainerID: c.id, IfName: c.ifname})
	}
	t.Logf("%d rounds, %d ADDs completed before their kill, delays up to %s", rounds, len(valid), maxDelay)
	leaked := verifyNoDoubleOwner(t, n)
	n.run(call{cmd: "GC", stdin: gcConf(t, conf, valid...)}).ok(t, "GC after kills")
	t.Logf("GC reclaimed %d leaked allocations", leaked-len(valid))
	verifyExactly(t, n, pod, valid)
}

// addDuration measures one ADD and returns a kill window somewhat longer.
func addDuration(t *testing.T, n *node, pod *testutil.Netns, conf []byte) time.Duration {
	start := time.Now()
	n.run(call{cmd: "ADD", id: "probe", netns: "/run/netns/" + pod.Name, ifname: "probe", stdin: conf}).ok(t, "probe ADD")
	d := time.Since(start)
	n.run(call{cmd: "DEL", id: "probe", ifname: "probe", stdin: conf}).ok(t, "probe DEL")
	return d + d/4 + time.Millisecond
}

// killedAdd starts an ADD, kills it after delay and reports whether the
// kill interrupted it (false: the ADD had completed successfully).
func killedAdd(t *testing.T, n *node, c call, delay time.Duration) bool {
	t.Helper()
	cmd := n.command(c)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if err != nil {
		return true
	}
	parseOutcome(t, c, stdout.Bytes(), nil, nil).ok(t, "ADD that beat the kill")
	return false
}

// verifyNoDoubleOwner checks the store and the kernel: every address has
// one owner, every pod route is unique, every host veth has an allocation.
// It returns the number of allocations.
func verifyNoDoubleOwner(t *testing.T, n *node) int {
	t.Helper()
	allocs := n.allocations() // runs Store.Check: owners <-> addresses is a bijection
	owned := map[string]bool{}
	for _, a := range allocs {
		owned[cni.HostVethName(a.Key.ContainerID, a.Key.IfName)] = true
	}
	for _, l := range links(t, n.host.Name) {
		if strings.HasPrefix(l, "weir") && !owned[l] {
			t.Errorf("host veth %s has no allocation: GC could never reclaim it", l)
		}
	}
	routed := map[string]bool{}
	for _, line := range strings.Split(n.host.Run(t, "ip", "-4", "route", "show", "scope", "link"), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			if routed[f[0]] {
				t.Errorf("two host routes to %s", f[0])
			}
			routed[f[0]] = true
		}
	}
	return len(allocs)
}

// verifyExactly checks that only the valid attachments remain.
func verifyExactly(t *testing.T, n *node, pod *testutil.Netns, valid []types.GCAttachment) {
	t.Helper()
	allocs := n.allocations()
	if len(allocs) != len(valid) {
		t.Fatalf("%d allocations after GC, want %d", len(allocs), len(valid))
	}
	want := map[string]bool{}
	for _, v := range valid {
		want[cni.HostVethName(v.ContainerID, v.IfName)] = true
	}
	for _, a := range allocs {
		if !want[cni.HostVethName(a.Key.ContainerID, a.Key.IfName)] || !netip.MustParsePrefix("10.40.0.0/16").Contains(a.Addr) {
			t.Errorf("unexpected allocation %v after GC", a)
		}
	}
	hostVeths := 0
	for _, l := range links(t, n.host.Name) {
		if strings.HasPrefix(l, "weir") {
			hostVeths++
			if !want[l] {
				t.Errorf("GC left host veth %s", l)
			}
		}
	}
	if hostVeths != len(valid) || len(links(t, pod.Name)) != len(valid)+1 {
		t.Errorf("%d host veths and pod links %v after GC, want %d pairs", hostVeths, links(t, pod.Name), len(valid))
	}
}
