package controlplane

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// TestLinearizableUnderFaults records a concurrent history of get, put and
// cas (PUT with resourceVersion) on a few ConfigMaps through all three
// members while members are killed -9 and restarted, or paused with
// SIGSTOP (a member cut off: a paused leader is deposed and must not serve
// stale reads when it resumes), and checks it with porcupine.
func TestLinearizableUnderFaults(t *testing.T) {
	c := startCluster(t)
	ctx := testCtx(t, 3*time.Minute)
	keys := []string{"lin-0", "lin-1", "lin-2", "lin-3", "lin-4"}
	for _, k := range keys {
		mustCode(t, ctx, c.Members[0].Client, "POST", cmPath, configMap(k, map[string]string{"v": initialValue}), 201)
	}
	h := &history{t0: time.Now()}
	until := time.Now().Add(25 * time.Second)
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		k := &kvClient{h: h, c: c, keys: keys, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))), name: fmt.Sprintf("c%d", i)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.run(ctx, until)
		}()
	}
	faults := injectFaults(t, ctx, c, h, until.Add(-2*time.Second))
	wg.Wait()
	for _, a := range h.anomalies {
		t.Error(a)
	}
	ops := h.finish()
	checkHistory(t, ops, faults)
}

func checkHistory(t *testing.T, ops []porcupine.Operation, faults []porcupine.Annotation) {
	t.Helper()
	var gets, writes, unknown int
	for _, op := range ops {
		switch out := op.Output.(kvOutput); {
		case out.unknown:
			unknown++
		case op.Input.(kvInput).op == "get":
			gets++
		default:
			writes++
		}
	}
	t.Logf("history: %d operations (%d reads, %d writes with a known outcome, %d unknown), %d faults", len(ops), gets, writes, unknown, len(faults))
	if gets < 100 || writes < 100 || len(faults) < 4 {
		t.Fatalf("history too thin to mean anything: %d reads, %d writes, %d faults", gets, writes, len(faults))
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(kvModel, ops, 90*time.Second)
	t.Logf("porcupine: %s in %v", res, time.Since(start).Round(time.Millisecond))
	if res == porcupine.Ok && os.Getenv("WEIR_TEST_KEEP") == "" {
		return
	}
	info.AddAnnotations(faults)
	f, err := os.CreateTemp("", "weir-linearizability-*.html")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := porcupine.VisualizePath(kvModel, info, f.Name()); err != nil {
		t.Errorf("write visualization: %v", err)
	}
	if err := writeHistory(f.Name()+".json", ops); err != nil {
		t.Errorf("write history: %v", err)
	}
	switch res {
	case porcupine.Illegal:
		t.Errorf("history is NOT linearizable; visualization: %s (history as JSON: %s.json)", f.Name(), f.Name())
	case porcupine.Unknown:
		t.Errorf("linearizability check timed out (result unknown); visualization: %s", f.Name())
	default:
		t.Logf("visualization: %s", f.Name())
	}
}

// injectFaults runs until `until`, one fault at a time, each followed by
// recovery: kill -9 the leader, pause (SIGSTOP) the leader, kill -9 a
// follower, pause a follower. It returns the faults as annotations.
func injectFaults(t *testing.T, ctx context.Context, c *cluster.Cluster, h *history, until time.Time) []porcupine.Annotation {
	t.Helper()
	var out []porcupine.Annotation
	for i := 0; time.Now().Add(4*time.Second).Before(until) && ctx.Err() == nil; i++ {
		time.Sleep(1500 * time.Millisecond)
		li, err := c.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		target, role := li, "leader"
		if i%4 >= 2 {
			target, role = (li+1+i%2)%len(c.Members), "follower"
		}
		m := c.Members[target]
		a := porcupine.Annotation{Tag: "faults", Start: h.now()}
		if i%2 == 0 {
			a.Description = fmt.Sprintf("kill -9 %s %s", role, m.Name)
			m.Kill()
			time.Sleep(time.Second)
			if err := m.Restart(); err != nil {
				t.Fatal(err)
			}
		} else {
			a.Description = fmt.Sprintf("SIGSTOP %s %s", role, m.Name)
			if err := m.Pause(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Second)
			if err := m.Resume(); err != nil {
				t.Fatal(err)
			}
		}
		a.End = h.now()
		out = append(out, a)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = c.WaitReady(rctx, len(c.Members))
		cancel()
		if err != nil {
			t.Fatalf("after %s: %v", a.Description, err)
		}
	}
	return out
}
