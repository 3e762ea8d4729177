package pods

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/localcluster"
)

// Run starts the cluster, measures, removes the cluster and writes the
// report.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "weir-bench-pods-")
	if err != nil {
		return Result{}, fmt.Errorf("data dir: %w", err)
	}
	defer os.RemoveAll(dir)
	listen, err := freeLoopback()
	if err != nil {
		return Result{}, err
	}
	lc := localcluster.Config{DataDir: filepath.Join(dir, "cluster"), Bin: cfg.Bin, Nodes: cfg.Nodes, Prefix: "weirbench",
		Listen: listen, Out: cfg.Log, NoClientConfig: true}
	defer func() {
		if err := localcluster.Down(lc, false); err != nil {
			fmt.Fprintf(cfg.Log, "weir-bench pods: removing the cluster: %v\n", err)
		}
	}()
	if err := localcluster.Up(ctx, lc); err != nil {
		return Result{}, fmt.Errorf("start the bench cluster: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(lc.DataDir, "control", "token"))
	if err != nil {
		return Result{}, fmt.Errorf("read the cluster token: %w", err)
	}
	api, err := client.New(client.Config{Server: "https://" + listen, Token: strings.TrimSpace(string(tok)),
		CAFile: filepath.Join(lc.DataDir, "control", "ca.crt")})
	if err != nil {
		return Result{}, err
	}
	defer api.Close()
	// localcluster's containerd socket: DATA-DIR/containerd/containerd.sock
	ct, err := followContainerd(ctx, filepath.Join(lc.DataDir, "containerd", "containerd.sock"))
	if err != nil {
		return Result{}, err
	}
	defer ct.close()
	load := loadAverage()
	samples, err := measure(ctx, api, ct, cfg)
	if err != nil {
		return Result{}, err
	}
	r := summarize(cfg, samples)
	r.LoadAvg, r.LoadAvgAfter = load, loadAverage()
	r.Date, r.Cores, r.Weir, r.Command = time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), cfg.WeirVersion, cfg.Command
	fmt.Fprintf(cfg.Log, "create -> Running+Ready with an IP over %d pods: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", r.Pods, r.Ready.P50Ms, r.Ready.P99Ms, r.Ready.MaxMs)
	return r, report(cfg, r)
}

// loadAverage is the 1-minute load average (0 when unreadable).
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var v float64
	fmt.Sscan(string(data), &v)
	return v
}

// freeLoopback is a free 127.0.0.1 port for the cluster's API proxy.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}
