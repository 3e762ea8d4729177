package push

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"time"
)

// Result is what a run measured (docs/bench/push.json).
type Result struct {
	Command   string    `json:"command"`
	Date      string    `json:"date"`
	Weir      string    `json:"weir"`
	Cores     int       `json:"cores"`
	Agents    int       `json:"agents"`
	Members   int       `json:"members"`
	Single    Latencies `json:"single"`
	Burst     Bursts    `json:"burst"`
	Resources Resources `json:"resources"`
	// Reconnects: agent sessions that ended and were reopened (a Watch
	// racing its Register on a follower is refused and retried).
	Reconnects int `json:"reconnects"`
}

// Latencies are write -> last ACK times of single changes.
type Latencies struct {
	Changes    int     `json:"changes"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
	WriteP50Ms float64 `json:"writeP50Ms"`    // the API write alone (PUT answered)
	FirstP50Ms float64 `json:"firstAckP50Ms"` // write -> the first agent's ACK
	FirstP99Ms float64 `json:"firstAckP99Ms"`
}

// Bursts: first write -> last ACK of the final version, per burst.
type Bursts struct {
	Size     int       `json:"size"`
	Writers  int       `json:"writers"`
	TotalMs  []float64 `json:"totalMs"`  // first write -> last ACK of the final version
	WritesMs []float64 `json:"writesMs"` // first write -> last write answered
	TailMs   []float64 `json:"tailMs"`   // last write answered -> last ACK
}

// Resources of the control plane (3 member processes together).
type Resources struct {
	RSSBeforeKiB         int64   `json:"rssBeforeKiB"`
	RSSAfterKiB          int64   `json:"rssAfterKiB"`
	RSSPerAgentKiB       float64 `json:"rssPerAgentKiB"`
	IdleCPUPercent       float64 `json:"idleCPUPercent"` // of one core, N agents heartbeating
	IdleCPUPerAgentPm    float64 `json:"idleCPUPerAgentPermille"`
	SingleCPUMsPerChange float64 `json:"singleCPUMsPerChange"` // CPU per change delivered to all agents
	BurstCPUMsPerChange  float64 `json:"burstCPUMsPerChange"`
}

// Run starts the control plane, connects the agents, measures, and writes
// the report.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	res := Result{Command: cfg.Command, Date: time.Now().UTC().Format(time.RFC3339), Weir: cfg.WeirVersion,
		Cores: runtime.NumCPU(), Agents: cfg.Agents, Members: 3}
	cp, err := startControlPlane(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer cp.Close()
	fmt.Fprintf(cfg.Log, "control plane up (%s); connecting %d agents\n", cp.dir, cfg.Agents)
	for i := 0; i < 50; i++ {
		if err := create(ctx, cp.members[0].client, fmt.Sprintf("burst-%02d", i)); err != nil {
			return res, err
		}
	}
	if err := create(ctx, cp.members[0].client, "single"); err != nil {
		return res, err
	}
	time.Sleep(time.Second) // let the members settle before the baseline
	before, err := cp.usage()
	if err != nil {
		return res, err
	}
	f, err := connect(ctx, cp, cfg.Agents, cfg.Heartbeat)
	if err != nil {
		return res, err
	}
	defer f.Close()
	if err := measureIdle(ctx, cfg, cp, &res, before); err != nil {
		return res, err
	}
	if err := measureSingles(ctx, cfg, cp, f, &res); err != nil {
		return res, err
	}
	if err := measureBursts(ctx, cfg, cp, f, &res); err != nil {
		return res, err
	}
	f.mu.Lock()
	res.Reconnects = f.retries
	f.mu.Unlock()
	return res, report(cfg, res)
}

func measureIdle(ctx context.Context, cfg Config, cp *controlPlane, res *Result, before usage) error {
	time.Sleep(min(cfg.Heartbeat, 3*time.Second)) // past the registration writes
	u0, err := cp.usage()
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(cfg.Idle):
	}
	u1, err := cp.usage()
	if err != nil {
		return err
	}
	r := &res.Resources
	r.RSSBeforeKiB, r.RSSAfterKiB = before.rssKiB, u1.rssKiB
	r.RSSPerAgentKiB = float64(u1.rssKiB-before.rssKiB) / float64(cfg.Agents)
	r.IdleCPUPercent = 100 * (u1.cpu - u0.cpu).Seconds() / cfg.Idle.Seconds()
	r.IdleCPUPerAgentPm = 10 * r.IdleCPUPercent / float64(cfg.Agents)
	fmt.Fprintf(cfg.Log, "idle: %.1f%% CPU, RSS %d -> %d KiB\n", r.IdleCPUPercent, before.rssKiB, u1.rssKiB)
	return nil
}

func measureSingles(ctx context.Context, cfg Config, cp *controlPlane, f *fleet, res *Result) error {
	var lat, wlat, flat []time.Duration
	u0, err := cp.usage()
	if err != nil {
		return err
	}
	for i := 0; i < cfg.Singles; i++ {
		start := time.Now()
		rev, err := put(ctx, cp.members[i%len(cp.members)].client, "single", i+1)
		if err != nil {
			return err
		}
		wlat = append(wlat, time.Since(start))
		first, last, err := f.waitAll(rev, 30*time.Second)
		if err != nil {
			return err
		}
		lat, flat = append(lat, last.Sub(start)), append(flat, first.Sub(start))
		time.Sleep(10 * time.Millisecond)
	}
	u1, err := cp.usage()
	if err != nil {
		return err
	}
	sortDur(lat)
	sortDur(wlat)
	sortDur(flat)
	res.Single = Latencies{FirstP50Ms: ms(pct(flat, 50)), FirstP99Ms: ms(pct(flat, 99)), Changes: cfg.Singles, P50Ms: ms(pct(lat, 50)), P99Ms: ms(pct(lat, 99)), MaxMs: ms(lat[len(lat)-1]), WriteP50Ms: ms(pct(wlat, 50))}
	res.Resources.SingleCPUMsPerChange = ms(u1.cpu-u0.cpu) / float64(cfg.Singles)
	fmt.Fprintf(cfg.Log, "single changes: p50 %.1f ms p99 %.1f ms max %.1f ms (API write p50 %.1f ms; first ACK p50 %.1f p99 %.1f ms)\n",
		res.Single.P50Ms, res.Single.P99Ms, res.Single.MaxMs, res.Single.WriteP50Ms, res.Single.FirstP50Ms, res.Single.FirstP99Ms)
	return nil
}

func measureBursts(ctx context.Context, cfg Config, cp *controlPlane, f *fleet, res *Result) error {
	res.Burst = Bursts{Size: cfg.BurstSize, Writers: cfg.Writers}
	u0, err := cp.usage()
	if err != nil {
		return err
	}
	for b := 0; b < cfg.Bursts; b++ {
		start := time.Now()
		rev, err := burst(ctx, cp, cfg.BurstSize, cfg.Writers, (b+1)*cfg.BurstSize)
		if err != nil {
			return err
		}
		written := time.Now()
		_, last, err := f.waitAll(rev, 60*time.Second)
		if err != nil {
			return err
		}
		res.Burst.TotalMs = append(res.Burst.TotalMs, ms(last.Sub(start)))
		res.Burst.WritesMs = append(res.Burst.WritesMs, ms(written.Sub(start)))
		res.Burst.TailMs = append(res.Burst.TailMs, ms(last.Sub(written)))
		fmt.Fprintf(cfg.Log, "burst %d: %d writes in %v, last ACK %v after the first write\n", b+1, cfg.BurstSize, written.Sub(start).Round(time.Millisecond), last.Sub(start).Round(time.Millisecond))
		time.Sleep(200 * time.Millisecond)
	}
	u1, err := cp.usage()
	if err != nil {
		return err
	}
	res.Resources.BurstCPUMsPerChange = ms(u1.cpu-u0.cpu) / float64(cfg.Bursts*cfg.BurstSize)
	return nil
}

func sortDur(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

// pct is the p-th percentile (nearest rank) of sorted d.
func pct(d []time.Duration, p int) time.Duration {
	i := (len(d)*p + 99) / 100
	return d[max(0, min(len(d)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
