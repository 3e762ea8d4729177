package scale

import (
	"strings"
	"testing"
)

// TestDefaultsRefuseWhatTheAgentCannotHold: sizes beyond the agent's lb
// maps, descending sizes and a missing binary are refused before anything
// starts.
func TestDefaultsRefuseWhatTheAgentCannotHold(t *testing.T) {
	for _, c := range []Config{{}, {WeirBin: "w", Services: []int{100000}}, {WeirBin: "w", Services: []int{10000, 1000}}, {WeirBin: "w", Nodes: []int{0}}} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	c, err := Config{WeirBin: "w"}.withDefaults()
	if err != nil || len(c.Nodes) != 2 || c.Services[2] != 30000 || c.Changes != 100 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}

// TestMarkdownJudgesGoals: the goal table judges the 100k goals at the
// largest size along its growth, the latency goal at 10k/3 nodes, the
// apply goal at the lowest ratio, and explains what was missed.
func TestMarkdownJudgesGoals(t *testing.T) {
	r := &Result{Command: "weir-bench scale", Cores: 2, IdleSeconds: 15,
		InProcess: []InProcess{{Services: 30000, HeapMiB: 12}},
		Runs: []Run1{
			{Nodes: 3, Services: 10000, ApplyRatio: 0.95, AgentIdleCPUPct: 0.1, AgentRSSMiB: 80, Map: Latency{Changes: 100, P50Ms: 20, P99Ms: 70}},
			{Nodes: 3, Services: 30000, ApplyRatio: 0.8, AgentIdleCPUPct: 0.2, AgentRSSMiB: 100, Apply: Apply{From: 10000, To: 30000},
				ApplyCPU: map[string]float64{"agent": 30, "member": 90}},
		}}
	md := r.Markdown()
	for _, want := range []string{
		"| idle agent CPU <= 1% of a core at 100k Services | 0.20% at 30000; at 100k along the growth from 10000: 0.55% | met |",
		"| agent RSS <= 150 MiB at 100k Services | 100 MiB at 30000; at 100k along the growth from 10000: 170 MiB | **missed** |",
		"p99 <= 50 ms at 10k Services, 3 nodes | 70.0 ms (p50 20.0) | **missed** |",
		"lowest 0.80x (3 nodes, Services 10000..30000) | **missed** |",
		"member 90%, agent 30%",
		"of which the dataplane's own state is 12.0 MiB",
		"| 3 | 30000 | 0.0050 | 1.00 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Idle agent CPU at") {
		t.Errorf("explains an idle CPU goal that was met:\n%s", md)
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader("# HELP x\nweir_a 3\nweir_a_bucket{le=\"1\"} 2\nweir_b 1.5e-3\n"), "weir_a", "weir_b", "weir_c")
	if err != nil || m["weir_a"] != 3 || m["weir_b"] != 0.0015 || len(m) != 2 {
		t.Fatalf("%v, %v", m, err)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3}
	if pct(v, 50) != 3 || pct(v, 99) != 5 || pct(v, 100) != 5 || pct(nil, 50) != 0 {
		t.Fatal(pct(v, 50), pct(v, 99))
	}
}

// TestOneSizeIsNotJudgedAt100k: with one size there is no growth to carry
// to 100k, so the 100k goals are not judged.
func TestOneSizeIsNotJudgedAt100k(t *testing.T) {
	r := &Result{Runs: []Run1{{Nodes: 1, Services: 1000, ApplyRatio: 1, AgentIdleCPUPct: 0.13, AgentRSSMiB: 75}}}
	md := r.Markdown()
	if !strings.Contains(md, "| agent RSS <= 150 MiB at 100k Services | 75 MiB at 1000; one size: no growth to carry to 100k | not judged |") ||
		strings.Contains(md, "Agent RSS at") || strings.Contains(md, "Idle agent CPU at") {
		t.Fatalf("report:\n%s", md)
	}
}
