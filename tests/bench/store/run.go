package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/weirnet/weir/tests/benchreport"
	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// Config configures a run.
type Config struct {
	WeirBin     string        // weir binary the members run
	WeirVersion string        // for the report
	EtcdBin     string        // etcd 3.4 server binary
	Dir         string        // parent of the temporary data dirs ("" = $TMPDIR)
	Duration    time.Duration // measured window per system and cell
	Warmup      time.Duration // unmeasured lead-in per system and cell
	Clients     []int         // concurrency levels
	Objects     int           // objects loaded before measuring RSS (0: skip)
	LoadClients int           // concurrency of the load phase
	Leader      bool          // send weir writes to the leader instead of spreading them
	Keep        bool          // keep the data dirs and member logs (the processes still stop)
	Command     string        // the command line, for the report
	Out         string        // markdown file to update ("" = none)
	JSONDir     string        // directory for store.json ("" = none)
	Log         io.Writer     // progress
}

// Cell is one (object, clients) combination measured on both systems.
type Cell struct {
	Object  string `json:"object"`
	Clients int    `json:"clients"`
	First   string `json:"first"` // which system ran first in this cell
	Weir    Stats  `json:"weir"`
	Etcd    Stats  `json:"etcd"`
}

// Result is everything a run measured.
type Result struct {
	Command    string    `json:"command"`
	Started    time.Time `json:"started"`
	Machine    Machine   `json:"machine"`
	WeirTarget string    `json:"weirTarget"`
	Cells      []Cell    `json:"cells"`
	Memory     *Memory   `json:"memory,omitempty"`
}

// Run starts both clusters, measures, reports and removes everything.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	etcdVer, err := etcdVersion(cfg.EtcdBin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "weir-bench-store-")
	if err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	defer func() {
		if cfg.Keep {
			logf(cfg.Log, "kept data dirs and logs in %s", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	res = &Result{Command: cfg.Command, Started: time.Now().UTC(), Machine: describeMachine(dir, etcdVer, cfg.WeirVersion)}
	logf(cfg.Log, "data dirs under %s (%s); etcd %s", dir, res.Machine.Filesystem, etcdVer)
	wc, err := startWeir(ctx, cfg, dir)
	if err != nil {
		return nil, err
	}
	defer wc.Close()
	ec, err := startEtcd(ctx, cfg.EtcdBin, dir+"/etcd")
	if err != nil {
		return nil, err
	}
	defer ec.close()
	logf(cfg.Log, "weir and etcd clusters ready")
	if res.Cells, res.WeirTarget, err = runCells(ctx, cfg, wc, ec); err != nil {
		return res, err
	}
	if cfg.Objects > 0 {
		if res.Memory, err = measureMemory(ctx, cfg, wc, ec); err != nil {
			return res, err
		}
	}
	return res, publish(cfg, res)
}

func startWeir(ctx context.Context, cfg Config, dir string) (*cluster.Cluster, error) {
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := cluster.Start(sctx, cluster.Options{Bin: cfg.WeirBin, Dir: dir + "/weir"})
	if err != nil {
		return nil, fmt.Errorf("start weir cluster: %w", err)
	}
	ns := []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + benchNamespace + `"}}`)
	r, err := c.Members[0].Client.Do(sctx, "POST", "/api/v1/namespaces", ns)
	if err == nil && r.Code != 201 {
		err = fmt.Errorf("%d %s", r.Code, r.Body)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("create namespace %s: %w", benchNamespace, err)
	}
	return c, nil
}

// runCells measures every (object, clients) cell on both systems, weir
// first in even cells and etcd first in odd ones.
func runCells(ctx context.Context, cfg Config, wc *cluster.Cluster, ec *etcdCluster) ([]Cell, string, error) {
	leader, target := -1, "spread over the 3 members (followers forward to the leader)"
	if cfg.Leader {
		li, err := wc.Leader(ctx)
		if err != nil {
			return nil, "", err
		}
		leader, target = li, "sent to the leader"
	}
	var cells []Cell
	for _, kind := range kinds {
		for _, n := range cfg.Clients {
			i := len(cells)
			cell := Cell{Object: kind.Label, Clients: n, First: "weir"}
			prefix := fmt.Sprintf("c%d", i)
			runWeir := func() {
				t0 := weirTerm(ctx, wc)
				cell.Weir = drive(ctx, n, cfg.Warmup, cfg.Duration, weirCreate(wc, kind, prefix, leader))
				cell.Weir.Elections = weirTerm(ctx, wc) - t0
			}
			runEtcd := func() {
				t0 := etcdTerm(ctx, ec)
				cell.Etcd = drive(ctx, n, cfg.Warmup, cfg.Duration, etcdCreate(ec.client, kind, prefix))
				cell.Etcd.Elections = etcdTerm(ctx, ec) - t0
			}
			if i%2 == 0 {
				runWeir()
				runEtcd()
			} else {
				cell.First = "etcd"
				runEtcd()
				runWeir()
			}
			if ctx.Err() != nil {
				return cells, target, ctx.Err()
			}
			logf(cfg.Log, "%-16s %3d clients: weir %7.0f/s p50 %6.1f ms p99 %6.1f ms (%d errors, %d elections) | etcd %7.0f/s p50 %6.1f ms p99 %6.1f ms (%d errors, %d elections)",
				kind.Label, n, cell.Weir.PerSec, cell.Weir.P50Ms, cell.Weir.P99Ms, cell.Weir.Errors, cell.Weir.Elections,
				cell.Etcd.PerSec, cell.Etcd.P50Ms, cell.Etcd.P99Ms, cell.Etcd.Errors, cell.Etcd.Elections)
			cells = append(cells, cell)
		}
	}
	return cells, target, nil
}

func publish(cfg Config, res *Result) error {
	md := markdown(res)
	fmt.Fprintln(cfg.Log)
	fmt.Fprintln(cfg.Log, md)
	var errs []error
	if cfg.Out != "" {
		if err := benchreport.UpdateSection(cfg.Out, "store", md); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", cfg.Out, err))
		}
	}
	if cfg.JSONDir != "" {
		if err := benchreport.WriteJSON(cfg.JSONDir, "store", res); err != nil {
			errs = append(errs, fmt.Errorf("write JSON: %w", err))
		}
	}
	return errors.Join(errs...)
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
