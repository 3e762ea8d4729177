package scale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	pushbench "github.com/weirnet/weir/tests/bench/push"
	"github.com/weirnet/weir/tests/benchreport"
)

// AgentsConfig configures `weir-bench scale-agents`.
type AgentsConfig struct {
	WeirBin     string // the weir binary for the member (required)
	WeirVersion string
	Agents      []int         // agent counts, one run each (default 1000, 5000)
	Heartbeat   time.Duration // agents' heartbeat interval (default 2s, the agent's)
	Settle      time.Duration // wait after the last agent synced, before the idle window (default 15s: past the first lease renewals)
	Idle        time.Duration // idle window (default 30s)
	Changes     int           // EndpointSlice changes timed per run (default 50)
	Dir         string        // parent of the member's data dir (default $TMPDIR)
	Out         string        // markdown file whose scale-agents section is replaced ("" = none)
	JSONDir     string        // directory for scale-agents.json ("" = none)
	Profiles    string        // directory for the member's CPU profile of the idle window, heap and goroutine profiles after it ("" = none)
	Command     string
	Report      io.Writer // the report, also (nil = none)
	Log         io.Writer // progress (nil = none)
}

// AgentsResult is a whole run.
type AgentsResult struct {
	Command string `json:"command"`
	Date    string `json:"date"`
	Weir    string `json:"weir"`
	Cores   int    `json:"cores"`
	// Heartbeat is the emulated agents' heartbeat interval.
	Heartbeat time.Duration `json:"heartbeatNs"`
	Runs      []AgentsRun   `json:"runs"`
}

// AgentsRun is one agent count's figures.
type AgentsRun struct {
	Agents             int          `json:"agents"`
	RSSBaselineKiB     int64        `json:"rssBaselineKiB"` // member before the agents connected (store and objects)
	RSSKiB             int64        `json:"rssKiB"`         // member at the end of the idle window
	RSSPerAgentKiB     float64      `json:"rssPerAgentKiB"`
	IdleCores          float64      `json:"idleCores"`
	BaselineCores      float64      `json:"baselineIdleCores"`       // the member idle before the agents connected
	IdleCPUPerAgentPm  float64      `json:"idleCPUPerAgentPermille"` // per mille of a core
	StoreWritesPerSec  float64      `json:"storeWritesPerSec"`       // idle: growth of the raft index
	Goroutines         int          `json:"goroutines"`              // member, at the end of the idle window
	GoroutinesPerAgent float64      `json:"goroutinesPerAgent"`
	ChangeP50Ms        float64      `json:"changeToLastAckP50Ms"`
	ChangeP99Ms        float64      `json:"changeToLastAckP99Ms"`
	ChangeMaxMs        float64      `json:"changeToLastAckMaxMs"`
	Reconnects         int          `json:"reconnects"`
	Goals              []AgentsGoal `json:"goals"`
}

// AgentsGoal is one figure against its goal at this agent count.
type AgentsGoal struct {
	What  string  `json:"what"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"`
	Met   bool    `json:"met"`
}

func (c AgentsConfig) withDefaults() (AgentsConfig, error) {
	if c.WeirBin == "" {
		return c, errors.New("scale-agents: the weir binary is required (it runs the member)")
	}
	if len(c.Agents) == 0 {
		c.Agents = []int{1000, 5000}
	}
	for _, n := range c.Agents {
		if n < 1 || n > 16000 {
			return c, fmt.Errorf("scale-agents: %d agents: want 1 to 16000 (the bench's cluster CIDR 100.64.0.0/10 has 16384 /24 node CIDRs)", n)
		}
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 2 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = 15 * time.Second
	}
	if c.Idle <= 0 {
		c.Idle = 30 * time.Second
	}
	if c.Changes <= 0 {
		c.Changes = 50
	}
	if c.Report == nil {
		c.Report = io.Discard
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c, nil
}

// RunAgents measures each agent count in turn on a fresh member, then
// writes the report (and the JSON).
func RunAgents(ctx context.Context, cfg AgentsConfig) (AgentsResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return AgentsResult{}, err
	}
	res := AgentsResult{Command: cfg.Command, Date: time.Now().UTC().Format(time.RFC3339), Weir: cfg.WeirVersion, Cores: runtime.NumCPU(),
		Heartbeat: cfg.Heartbeat}
	for _, n := range cfg.Agents {
		r, err := runAgents(ctx, cfg, n)
		if err != nil {
			return res, fmt.Errorf("%d agents: %w", n, err)
		}
		res.Runs = append(res.Runs, r)
	}
	md := AgentsReport(res)
	fmt.Fprint(cfg.Report, md)
	if cfg.JSONDir != "" {
		if err := benchreport.WriteJSON(cfg.JSONDir, "scale-agents", res); err != nil {
			return res, err
		}
	}
	if cfg.Out != "" {
		return res, benchreport.UpdateSection(cfg.Out, "scale-agents", md)
	}
	return res, nil
}

func runAgents(ctx context.Context, cfg AgentsConfig, n int) (AgentsRun, error) {
	r := AgentsRun{Agents: n}
	c, base, err := pushbench.StartCluster(ctx, pushbench.Config{WeirBin: cfg.WeirBin, Agents: n, Heartbeat: cfg.Heartbeat,
		Dir: cfg.Dir, Log: cfg.Log, Members: 1, ServerArgs: []string{"--cluster-cidr", "100.64.0.0/10"}})
	if err != nil {
		return r, err
	}
	defer c.Close()
	r.BaselineCores = base.IdleCores
	fmt.Fprintf(cfg.Log, "%d agents synced; settling %v\n", n, cfg.Settle)
	if err := sleep(ctx, cfg.Settle); err != nil {
		return r, err
	}
	u0, err := c.Usage()
	if err != nil {
		return r, err
	}
	rev0, err := c.Revision(ctx)
	if err != nil {
		return r, err
	}
	cpuProf := make(chan error, 1)
	if cfg.Profiles != "" { // the member's CPU profile of the idle window
		go func() {
			secs := max(1, int(cfg.Idle.Seconds())-1)
			b, err := c.Profile(ctx, fmt.Sprintf("profile?seconds=%d", secs))
			if err == nil {
				err = writeProfile(cfg, fmt.Sprintf("cpu-%d.pb.gz", n), b)
			}
			cpuProf <- err
		}()
	} else {
		cpuProf <- nil
	}
	if err := sleep(ctx, cfg.Idle); err != nil {
		return r, err
	}
	if err := <-cpuProf; err != nil {
		return r, fmt.Errorf("cpu profile: %w", err)
	}
	u1, err := c.Usage()
	if err != nil {
		return r, err
	}
	rev1, err := c.Revision(ctx)
	if err != nil {
		return r, err
	}
	secs := cfg.Idle.Seconds()
	r.RSSBaselineKiB, r.RSSKiB = base.RSSKiB, u1.RSSKiB
	r.RSSPerAgentKiB = float64(u1.RSSKiB-base.RSSKiB) / float64(n)
	r.IdleCores = (u1.CPU - u0.CPU).Seconds() / secs
	r.IdleCPUPerAgentPm = 1000 * r.IdleCores / float64(n)
	// The revision read itself is no write; the list costs none.
	r.StoreWritesPerSec = float64(rev1-rev0) / secs
	if err := profile(ctx, cfg, c, &r); err != nil {
		return r, err
	}
	fmt.Fprintf(cfg.Log, "idle: %.3f cores, %.1f store writes/s, RSS %d -> %d KiB, %d goroutines\n", r.IdleCores, r.StoreWritesPerSec, base.RSSKiB, u1.RSSKiB, r.Goroutines)
	var lat []time.Duration
	for i := 0; i < cfg.Changes; i++ {
		d, err := c.Change(ctx, i)
		if err != nil {
			return r, err
		}
		lat = append(lat, d)
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return r, err
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.ChangeP50Ms, r.ChangeP99Ms, r.ChangeMaxMs = msDur(pctDur(lat, 50)), msDur(pctDur(lat, 99)), msDur(lat[len(lat)-1])
	fmt.Fprintf(cfg.Log, "changes: p50 %.1f ms p99 %.1f ms max %.1f ms\n", r.ChangeP50Ms, r.ChangeP99Ms, r.ChangeMaxMs)
	r.Reconnects = c.Reconnects()
	r.Goals = agentsGoals(r)
	return r, nil
}

// profile counts the member's goroutines and, with cfg.Profiles, keeps
// its heap and goroutine profiles (go tool pprof reads them).
func profile(ctx context.Context, cfg AgentsConfig, c *pushbench.Cluster, r *AgentsRun) error {
	g, err := c.Profile(ctx, "goroutine?debug=1")
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(g), "\n")
	if _, err := fmt.Sscanf(first, "goroutine profile: total %d", &r.Goroutines); err != nil {
		return fmt.Errorf("goroutine profile header %q: %w", first, err)
	}
	r.GoroutinesPerAgent = float64(r.Goroutines) / float64(r.Agents)
	if cfg.Profiles == "" {
		return nil
	}
	h, err := c.Profile(ctx, "heap")
	if err != nil {
		return err
	}
	if err := writeProfile(cfg, fmt.Sprintf("heap-%d.pb.gz", r.Agents), h); err != nil {
		return err
	}
	return writeProfile(cfg, fmt.Sprintf("goroutine-%d.txt", r.Agents), g)
}

func writeProfile(cfg AgentsConfig, name string, b []byte) error {
	if err := os.MkdirAll(cfg.Profiles, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cfg.Profiles, name), b, 0o644)
}

// agentsGoals are the goals at 5,000 agents, scaled to n where
// they are per agent.
func agentsGoals(r AgentsRun) []AgentsGoal {
	f := float64(r.Agents) / 5000
	g := []AgentsGoal{
		{What: "heartbeat store writes", Value: r.StoreWritesPerSec, Limit: 500 * f, Unit: "writes/s"},
		{What: "member idle CPU", Value: r.IdleCores, Limit: 1 * f, Unit: "cores"},
		{What: "member RSS beyond the objects", Value: float64(r.RSSKiB-r.RSSBaselineKiB) / (1 << 20), Limit: 1 * f, Unit: "GiB"},
		{What: "change-to-last-ACK p99", Value: r.ChangeP99Ms / 1000, Limit: 1, Unit: "s"},
	}
	for i := range g {
		g[i].Met = g[i].Value <= g[i].Limit
	}
	return g
}

// AgentsReport is the result as markdown.
func AgentsReport(res AgentsResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Agents per member\n\n`%s` on %s, %d cores, weir %s: one member, N emulated agents over real mutual-TLS node streams, heartbeats every %v.\n\n",
		res.Command, res.Date, res.Cores, res.Weir, res.Heartbeat)
	b.WriteString("| agents | idle CPU before the agents (cores) | idle CPU (cores) | per agent (‰ core) | RSS growth (MiB) | per agent (KiB) | store writes/s idle | goroutines per agent | change→last ACK p50 / p99 / max (ms) | reconnects |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Runs {
		fmt.Fprintf(&b, "| %d | %.3f | %.3f | %.3f | %.1f | %.1f | %.1f | %.1f | %.1f / %.1f / %.1f | %d |\n", r.Agents, r.BaselineCores, r.IdleCores, r.IdleCPUPerAgentPm,
			float64(r.RSSKiB-r.RSSBaselineKiB)/1024, r.RSSPerAgentKiB, r.StoreWritesPerSec, r.GoroutinesPerAgent, r.ChangeP50Ms, r.ChangeP99Ms, r.ChangeMaxMs, r.Reconnects)
	}
	b.WriteString("\nGoals (issue #15, at 5,000 agents; per-agent goals scaled to N):\n\n")
	for _, r := range res.Runs {
		for _, g := range r.Goals {
			verdict := "meets"
			if !g.Met {
				verdict = "MISSES"
			}
			fmt.Fprintf(&b, "- %d agents: %s %.3f %s, goal <= %.3f: %s\n", r.Agents, g.What, g.Value, g.Unit, g.Limit, verdict)
		}
	}
	return b.String()
}

// pctDur is the p-th percentile (nearest rank) of sorted d.
func pctDur(d []time.Duration, p int) time.Duration {
	i := (len(d)*p + 99) / 100
	return d[max(0, min(len(d)-1, i-1))]
}

func msDur(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
