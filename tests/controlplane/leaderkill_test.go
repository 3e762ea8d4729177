package controlplane

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// Small raft snapshot settings, so that the leader truncates its log while
// a member is down and that member must catch up from a snapshot.
const trailingLogs = 64

var snapshotArgs = []string{"--snapshot-threshold", "256", "--trailing-logs", strconv.Itoa(trailingLogs), "--snapshot-interval", "500ms"}

// round is one kill -9 of the leader.
type round struct {
	n        int
	leader   int
	killRev  uint64        // highest acknowledged revision at the kill
	elected  time.Duration // kill -> first write acknowledged by the new leader
	probe    write
	watch    *watcher // opened on a follower before the kill
	catchUp  time.Duration
	snapshot bool // the restarted member installed a snapshot from the leader
}

func TestKillLeaderDuringWrites(t *testing.T) {
	c := startCluster(t, snapshotArgs...)
	ctx := testCtx(t, 4*time.Minute)
	from := currentRevision(t, ctx, c.Members[0])
	var watchers []*watcher
	for i := range c.Members {
		watchers = append(watchers, startWatcher(ctx, c, i, from, true))
	}
	ws := startWriters(ctx, c, 4, "w")
	var rounds []*round
	for n := 0; n < 5 && !t.Failed(); n++ {
		// The last round keeps the member down until the log it needs is gone.
		rounds = append(rounds, killLeader(t, ctx, c, ws, n, n == 4))
	}
	writes, anomalies := ws.Stop()
	for _, a := range anomalies {
		t.Error(a)
	}
	for _, rd := range rounds {
		writes = append(writes, rd.probe)
	}
	if t.Failed() {
		return
	}
	all := verifyWrites(t, ctx, c, writes, func(name string) bool {
		return strings.HasPrefix(name, "w") || strings.HasPrefix(name, "probe-")
	})
	checkWatchers(t, watchers, rounds, all)
	reportRounds(t, rounds)
}

func killLeader(t *testing.T, ctx context.Context, c *cluster.Cluster, ws *writers, n int, viaSnapshot bool) *round {
	t.Helper()
	time.Sleep(time.Second) // writes flow through all members
	li, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rd := &round{n: n, leader: li, killRev: ws.maxAcked()}
	follower := (li + 1) % len(c.Members)
	rd.watch = startWatcher(ctx, c, follower, rd.killRev, false)
	killed := time.Now()
	c.Members[li].Kill()
	rd.probe = create(ctx, c, follower, fmt.Sprintf("probe-%d", n), 0, func(f string, a ...any) { t.Errorf(f, a...) })
	if rd.probe.outcome == unknown {
		t.Fatalf("round %d: no write acknowledged within 30 s of killing leader %s", n, c.Members[li].Name)
	}
	rd.elected = rd.probe.end.Sub(killed)
	t.Logf("round %d: killed leader %s at revision %d; probe write acknowledged %v later at revision %d",
		n, c.Members[li].Name, rd.killRev, rd.elected.Round(time.Millisecond), rd.probe.rv)
	if !rd.watch.waitFor(rd.probe.rv, 15*time.Second) {
		t.Errorf("round %d: the watch on %s, open across the leader change, did not deliver revision %d (last %d)",
			n, c.Members[follower].Name, rd.probe.rv, rd.watch.last())
	}
	rd.watch.Stop()
	if viaSnapshot {
		waitTruncated(t, ctx, c, li, rd.killRev)
	} else {
		time.Sleep(time.Second)
	}
	restartAndCatchUp(t, ctx, c, rd)
	return rd
}

// restartAndCatchUp restarts the killed member and waits until it answers
// a linearizable read of the round's probe write.
func restartAndCatchUp(t *testing.T, ctx context.Context, c *cluster.Cluster, rd *round) {
	t.Helper()
	m := c.Members[rd.leader]
	start := time.Now()
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := m.Client.Do(rctx, "GET", cmPath+"/"+rd.probe.name, nil)
		cancel()
		if err == nil && r.Code == 200 {
			if meta, _ := cluster.MetaOf(r.Body); meta.Revision() != rd.probe.rv {
				t.Errorf("round %d: restarted %s reads %s at revision %d, want %d", rd.n, m.Name, rd.probe.name, meta.Revision(), rd.probe.rv)
			}
			break
		}
		if time.Since(start) > 60*time.Second {
			t.Fatalf("round %d: restarted %s did not catch up within 60 s (last: %v %d %s)", rd.n, m.Name, err, r.Code, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rd.catchUp = time.Since(start)
	if err := c.WaitReady(ctx, len(c.Members)); err != nil {
		t.Fatal(err)
	}
	// raft logs "Installed remote snapshot" just after the state machine's
	// Restore returns, which may be after the read above was answered.
	for wait := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rd.snapshot = strings.Contains(lastRun(m.LogPath), "Installed remote snapshot")
		if rd.snapshot || time.Now().After(wait) {
			break
		}
	}
}

// waitTruncated waits until every running member has taken a raft snapshot
// far enough past killRev that the entries the killed member needs are
// compacted away (snapshot index - trailing logs > its last index).
func waitTruncated(t *testing.T, ctx context.Context, c *cluster.Cluster, killed int, killRev uint64) {
	t.Helper()
	need := killRev + trailingLogs + 100 // margin: entries beyond the last acknowledged one
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok := true
		for i, m := range c.Members {
			if i != killed && maxSnapshotIndex(m.DataDir) < need {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("no raft snapshot past index %d within 60 s on the running members", need)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// maxSnapshotIndex is the highest index among the raft snapshots in a
// data dir (raft names them TERM-INDEX-MILLIS).
func maxSnapshotIndex(dataDir string) uint64 {
	entries, _ := os.ReadDir(filepath.Join(dataDir, "snapshots"))
	var max uint64
	for _, e := range entries {
		parts := strings.Split(e.Name(), "-")
		if len(parts) != 3 || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if idx, err := strconv.ParseUint(parts[1], 10, 64); err == nil && idx > max {
			max = idx
		}
	}
	return max
}

// lastRun is the part of a member log written by its latest start.
func lastRun(logPath string) string {
	data, _ := os.ReadFile(logPath)
	s := string(data)
	if i := strings.LastIndex(s, "=== start "); i >= 0 {
		return s[i:]
	}
	return s
}

func currentRevision(t *testing.T, ctx context.Context, m *cluster.Member) uint64 {
	t.Helper()
	r, err := m.Client.Do(ctx, "GET", cmPath, nil)
	if err != nil || r.Code != 200 {
		t.Fatalf("list configmaps: %v %d %s", err, r.Code, r.Body)
	}
	l, err := cluster.DecodeList(r.Body)
	if err != nil || l.Revision == 0 {
		t.Fatalf("list configmaps: revision %d, %v", l.Revision, err)
	}
	return l.Revision
}

func checkWatchers(t *testing.T, watchers []*watcher, rounds []*round, all []stored) {
	t.Helper()
	if len(all) == 0 {
		t.Fatal("no objects were written")
	}
	top := all[len(all)-1].rv
	for i, w := range watchers {
		if !w.waitFor(top, 30*time.Second) {
			t.Errorf("watcher %d did not reach revision %d (last %d)", i, top, w.last())
		}
		w.Stop()
		for _, p := range w.check(all) {
			t.Errorf("watcher %d: %s", i, p)
		}
		t.Logf("watcher %d: %d events over %d watch requests", i, len(w.events), len(w.conns))
	}
	for _, rd := range rounds {
		for _, p := range rd.watch.check(all) {
			t.Errorf("round %d, watch open across the leader change: %s", rd.n, p)
		}
		if len(rd.watch.conns) != 1 || rd.watch.conns[0].events == 0 {
			t.Errorf("round %d: the watch across the leader change used %d requests", rd.n, len(rd.watch.conns))
		}
	}
}

// reportRounds logs every round and asserts the election times: the
// median under 3 s (the acceptance bound), the slowest under 6 s (slack
// for a loaded 2-core machine running three members and the test).
func reportRounds(t *testing.T, rounds []*round) {
	t.Helper()
	var times []time.Duration
	for _, rd := range rounds {
		t.Logf("round %d: new leader served a write %v after the kill; restarted member caught up in %v (snapshot installed: %v)",
			rd.n, rd.elected.Round(time.Millisecond), rd.catchUp.Round(time.Millisecond), rd.snapshot)
		times = append(times, rd.elected)
	}
	if last := rounds[len(rounds)-1]; !last.snapshot {
		t.Errorf("round %d: the restarted member did not install a snapshot (no \"Installed remote snapshot\" in its log): catching up after log truncation was not exercised", last.n)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	med, max := times[len(times)/2], times[len(times)-1]
	t.Logf("kill -9 of the leader -> write acknowledged: median %v, max %v (assert median < 3s, max < 6s)", med, max)
	if med >= 3*time.Second || max >= 6*time.Second {
		t.Errorf("new leader too slow: median %v (want < 3s), max %v (want < 6s)", med, max)
	}
}
