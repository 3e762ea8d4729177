package scale

import (
	"strings"
	"testing"
)

// TestAgentsGoals: the verdicts follow the figures, with the per-agent
// goals scaled to the agent count and the latency goal not.
func TestAgentsGoals(t *testing.T) {
	r := AgentsRun{Agents: 1000, StoreWritesPerSec: 99, IdleCores: 0.25, RSSBaselineKiB: 100 << 10, RSSKiB: 100<<10 + 300<<10, ChangeP99Ms: 1200}
	r.Goals = agentsGoals(r)
	want := map[string]struct {
		limit float64
		met   bool
	}{
		"heartbeat store writes":        {100, true},
		"member idle CPU":               {0.2, false},
		"member RSS beyond the objects": {0.2, false},
		"change-to-last-ACK p99":        {1, false},
	}
	for _, g := range r.Goals {
		w, ok := want[g.What]
		if !ok || g.Limit != w.limit || g.Met != w.met {
			t.Errorf("%s: limit %v met %v, want %+v", g.What, g.Limit, g.Met, w)
		}
	}
	md := AgentsReport(AgentsResult{Command: "weir-bench scale-agents -agents 1000", Runs: []AgentsRun{r}})
	for _, s := range []string{"| 1000 |", "heartbeat store writes 99.000 writes/s, goal <= 100.000: meets", "member idle CPU 0.250 cores, goal <= 0.200: MISSES"} {
		if !strings.Contains(md, s) {
			t.Errorf("report lacks %q:\n%s", s, md)
		}
	}
}
