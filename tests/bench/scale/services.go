package scale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"
)

// Config says what to measure. Zero values get the defaults of
// withDefaults.
type Config struct {
	WeirBin     string // the weir binary (weir-cni and weir-testimage.tar beside it)
	WeirVersion string
	Nodes       []int // cluster sizes (default 1 and 3)
	Services    []int // Service counts, ascending (default 1000, 10000, 30000)
	// EndpointsEvery: one Service in EndpointsEvery has an EndpointSlice
	// of Endpoints endpoints (default 10 and 10).
	EndpointsEvery int
	Endpoints      int
	Workers        int           // concurrent API writers while applying (default 16)
	Changes        int           // single EndpointSlice changes timed to the maps, per size (default 100)
	DNSChanges     int           // headless slice changes timed to DNS, per size (default 30)
	Settle         time.Duration // quiet time after convergence before the idle window (default 5s)
	Idle           time.Duration // idle window (default 15s)
	Dir            string        // parent of the data dirs (default $TMPDIR)
	Out            string        // markdown file whose scale section is replaced ("" = none)
	JSONDir        string        // directory for scale.json ("" = none)
	Command        string        // the command line, for the report
	Log            io.Writer     // progress (nil = none)
}

// agentMaxFrontends is the agent's lb map capacity (the dataplane's
// default MaxServices; `weir agent` has no flag for it).
const agentMaxFrontends = 65536

// frontendMargin leaves room for the frontends of the Services weir up
// makes (kubernetes, the demo's ClusterIP and NodePort ones).
const frontendMargin = 16

func (c Config) withDefaults() (Config, error) {
	if c.WeirBin == "" {
		return c, errors.New("scale: the weir binary is required")
	}
	if len(c.Nodes) == 0 {
		c.Nodes = []int{1, 3}
	}
	if len(c.Services) == 0 {
		c.Services = []int{1000, 10000, 30000}
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.EndpointsEvery, 10)
	def(&c.Endpoints, 10)
	def(&c.Workers, 16)
	def(&c.Changes, 100)
	def(&c.DNSChanges, 30)
	if c.Settle <= 0 {
		c.Settle = 5 * time.Second
	}
	if c.Idle <= 0 {
		c.Idle = 15 * time.Second
	}
	if c.Dir == "" {
		c.Dir = os.TempDir()
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if !slices.IsSorted(c.Services) || c.Services[0] < c.EndpointsEvery {
		return c, fmt.Errorf("scale: --services %v: want ascending counts of at least %d", c.Services, c.EndpointsEvery)
	}
	if n := c.Services[len(c.Services)-1] + frontendMargin; n > agentMaxFrontends {
		return c, fmt.Errorf("scale: %d Services do not fit the agent's lb maps (%d frontends, %d of them kept for the demo and kubernetes Services: the dataplane's default MaxServices, which `weir agent` does not expose)", n-frontendMargin, agentMaxFrontends, frontendMargin)
	}
	for _, n := range c.Nodes {
		if n < 1 {
			return c, fmt.Errorf("scale: --nodes %v: want counts >= 1", c.Nodes)
		}
	}
	return c, nil
}

// Run measures every configured cluster and size and writes the report.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	res := &Result{Command: cfg.Command, Date: time.Now().UTC().Format(time.RFC3339), Weir: cfg.WeirVersion,
		Machine: machine(), Cores: runtime.NumCPU(), EndpointsEvery: cfg.EndpointsEvery, Endpoints: cfg.Endpoints,
		Workers: cfg.Workers, IdleSeconds: cfg.Idle.Seconds()}
	logf(cfg, "bare weir server: applying %v Services", cfg.Services)
	if res.Bare, err = measureBare(ctx, cfg); err != nil {
		return nil, fmt.Errorf("bare server: %w", err)
	}
	logf(cfg, "in-process dataplane: Sync and Upsert at %v Services", cfg.Services)
	if res.InProcess, err = measureInProcess(ctx, cfg); err != nil {
		return nil, fmt.Errorf("in-process dataplane: %w", err)
	}
	for _, nodes := range cfg.Nodes {
		runs, err := measureCluster(ctx, cfg, nodes, res.Bare)
		if err != nil {
			return nil, fmt.Errorf("cluster of %d nodes: %w", nodes, err)
		}
		res.Runs = append(res.Runs, runs...)
	}
	return res, res.write(cfg)
}

func logf(cfg Config, format string, a ...any) {
	fmt.Fprintf(cfg.Log, "==> "+format+"\n", a...)
}
