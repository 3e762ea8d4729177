package dns

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	discoveryv1 "k8s.io/api/discovery/v1"

	weirdns "github.com/weirnet/weir/dns"
)

const (
	scenarioCluster  = "cluster"
	scenarioSearch   = "search"
	scenarioExternal = "external"
	scenarioNXDOMAIN = "nxdomain"
	scenarioEcho     = "io-limit"
)

var descriptions = map[string]string{
	scenarioCluster:  "cluster names (`svc.ns.svc.cluster.local` A; 1 in 10 headless with 5 endpoints)",
	scenarioSearch:   "ndots:5 search expansion as a pod sends it (A+AAAA per candidate; short, cross-namespace and external names)",
	scenarioExternal: "external names answered from the cache (1,000 names)",
	scenarioNXDOMAIN: "NXDOMAIN in the cluster zone",
	scenarioEcho:     "trivial UDP responder (echo with QR set), same queries as cluster names: the I/O ceiling",
}

// Options configure a run; zero values take the defaults of the issue.
type Options struct {
	Services, Endpoints  int           // default 10,000 and 50,000
	Duration             time.Duration // per dnsperf run; default 10 s
	Rounds               int           // saturation rounds, best kept; default 3
	Dnsperf              string        // default "dnsperf"
	Clients, Outstanding int           // dnsperf -c and -q; default 4 and 200
	Command              string        // the command line, for the report
	Logger               *slog.Logger
}

// Result is everything one run measured.
type Result struct {
	Command        string     `json:"command"`
	Date           string     `json:"date"`
	GoVersion      string     `json:"go_version"`
	CPUs           int        `json:"cpus"`
	Services       int        `json:"services"`
	Endpoints      int        `json:"endpoints"`
	Pods           int        `json:"pods"`
	Records        int        `json:"records"`
	HeapBytes      uint64     `json:"heap_bytes"`
	BytesPerRecord float64    `json:"bytes_per_record"`
	UpdateMs       float64    `json:"full_update_ms"`
	ApplyP50Ms     float64    `json:"apply_p50_ms"`
	ApplyP99Ms     float64    `json:"apply_p99_ms"`
	Scenarios      []Scenario `json:"scenarios"`
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end:
	// other work on the machine skews every figure.
	LoadBefore string `json:"loadavg_before"`
	LoadAfter  string `json:"loadavg_after"`
}

// Scenario is one query mix: at saturation (best round), then at half that rate.
type Scenario struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Saturated   perfRun   `json:"saturated"` // the best round
	Rounds      []float64 `json:"rounds_qps"`
	HalfRate    perfRun   `json:"half_rate"`
}

func (o *Options) defaults() {
	setInt(&o.Services, 10000)
	setInt(&o.Endpoints, 50000)
	setInt(&o.Clients, 4)
	setInt(&o.Outstanding, 200)
	setInt(&o.Rounds, 3)
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Dnsperf == "" {
		o.Dnsperf = "dnsperf"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func setInt(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// Run performs the benchmark.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	log := o.Logger
	c := generate(o.Services, o.Endpoints)
	res := &Result{Command: o.Command, Date: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), Services: len(c.services), Endpoints: len(c.pods), Pods: len(c.pods), LoadBefore: loadavg()}
	defer func() { res.LoadAfter = loadavg() }()
	up, err := startUpstream()
	if err != nil {
		return nil, err
	}
	defer up.Close()
	s, err := load(res, c, up.addr())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	log.Info("loaded", "records", res.Records, "bytes_per_record", int(res.BytesPerRecord), "full_update_ms", res.UpdateMs)
	if err := measureApply(res, s, c); err != nil {
		return nil, err
	}
	addr, err := serve(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := warm(addr); err != nil {
		return nil, err
	}
	echo, err := startEcho()
	if err != nil {
		return nil, err
	}
	defer echo.Close()
	dir, err := os.MkdirTemp("", "weir-bench-dns-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files, err := queryFiles(dir, c)
	if err != nil {
		return nil, err
	}
	perf := perfConfig{bin: o.Dnsperf, clients: o.Clients, outstanding: o.Outstanding, duration: o.Duration}
	targets := map[string][2]string{}
	var order []string
	for _, name := range []string{scenarioCluster, scenarioSearch, scenarioExternal, scenarioNXDOMAIN, scenarioEcho} {
		targets[name] = [2]string{addr, files[name]}
		order = append(order, name)
	}
	targets[scenarioEcho] = [2]string{echo.addr(), files[scenarioCluster]}
	if res.Scenarios, err = runScenarios(ctx, perf, o.Rounds, order, targets, log); err != nil {
		return nil, err
	}
	return res, nil
}

// runScenarios measures saturation in rounds that visit every scenario in
// turn, so a burst of other work on the machine hits them alike, and keeps
// each scenario's best round; then it measures latency at half that rate.
func runScenarios(ctx context.Context, perf perfConfig, rounds int, order []string, targets map[string][2]string, log *slog.Logger) ([]Scenario, error) {
	out := make([]Scenario, len(order))
	for i, name := range order {
		out[i] = Scenario{Name: name, Description: descriptions[name]}
	}
	for round := range rounds {
		for i, name := range order {
			t := targets[name]
			r, err := perf.run(ctx, t[0], t[1], 0, false)
			if err != nil {
				return nil, fmt.Errorf("scenario %s: %w", name, err)
			}
			out[i].Rounds = append(out[i].Rounds, r.QPS)
			if r.QPS > out[i].Saturated.QPS {
				out[i].Saturated = r
			}
			log.Info("saturation", "round", round+1, "scenario", name, "qps", int(r.QPS))
		}
	}
	for i, name := range order {
		t := targets[name]
		r, err := perf.run(ctx, t[0], t[1], int(out[i].Saturated.QPS/2), true)
		if err != nil {
			return nil, fmt.Errorf("scenario %s at half rate: %w", name, err)
		}
		out[i].HalfRate = r
		log.Info("latency", "scenario", name, "rate", int(out[i].Saturated.QPS/2), "p50_ms", r.P50, "p99_ms", r.P99)
	}
	return out, nil
}

// load builds the server and measures the heap its index takes.
func load(res *Result, c cluster, upstream string) (*weirdns.Server, error) {
	before := heap()
	s, err := weirdns.NewServer(weirdns.Config{Upstreams: []string{upstream}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	s.Update(c.services, c.slices, c.pods)
	res.UpdateMs = ms(time.Since(start))
	after := heap()
	runtime.KeepAlive(c)
	res.Records = s.Records()
	if after > before {
		res.HeapBytes = after - before
	}
	res.BytesPerRecord = float64(res.HeapBytes) / float64(max(1, res.Records))
	return s, nil
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// measureApply times incremental updates at this scale: one endpoint of
// one service turning not-ready and back.
func measureApply(res *Result, s *weirdns.Server, c cluster) error {
	var times []time.Duration
	for i := range 200 {
		sl := c.slices[(i*37)%len(c.slices)].DeepCopy()
		ready := i%2 == 1
		sl.Endpoints[0].Conditions.Ready = &ready
		start := time.Now()
		if err := s.Apply(weirdns.Delta{EndpointSlices: []discoveryv1.EndpointSlice{*sl}}); err != nil {
			return err
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	res.ApplyP50Ms, res.ApplyP99Ms = ms(times[len(times)/2]), ms(times[len(times)*99/100])
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func serve(ctx context.Context, s *weirdns.Server) (string, error) {
	udp, tcp, err := weirdns.Listen("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = s.Serve(ctx, udp, tcp) }() // ends with s.Close
	return udp.LocalAddr().String(), nil
}

// warm puts every external name (A and AAAA) into the server's cache.
func warm(addr string) error {
	c := &mdns.Client{Timeout: 5 * time.Second}
	for k := range externalNames {
		for _, t := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
			m := new(mdns.Msg)
			m.SetQuestion(externalName(k)+".", t)
			if _, _, err := c.Exchange(m, addr); err != nil {
				return fmt.Errorf("warm the cache: %w", err)
			}
		}
	}
	return nil
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
