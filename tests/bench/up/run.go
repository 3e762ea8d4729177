package up

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Config says what to measure.
type Config struct {
	WeirBin     string        // the weir binary (weir-cni and weir-testimage.tar beside it)
	WeirVersion string        // recorded in the results
	Nodes       int           // default 3
	Controls    []int         // control member counts measured (default 1 and 3)
	Idle        time.Duration // wait before reading memory (default 10s)
	Dir         string        // parent of the data dirs (default $TMPDIR)
	Out         string        // markdown file whose "up" section is replaced ("" = none)
	JSONDir     string        // directory for up.json ("" = none)
	Command     string        // the command line, recorded in the report
	Log         io.Writer     // progress
}

func (c *Config) defaults() {
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if len(c.Controls) == 0 {
		c.Controls = []int{1, 3}
	}
	if c.Idle == 0 {
		c.Idle = 10 * time.Second
	}
	if c.Dir == "" {
		c.Dir = os.TempDir()
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Run measures every configured shape and writes the report.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg.defaults()
	res := &Results{Version: cfg.WeirVersion, Command: cfg.Command, Nodes: cfg.Nodes, IdleSeconds: cfg.Idle.Seconds(),
		Date: time.Now().UTC().Format(time.RFC3339), Machine: machine()}
	for _, c := range cfg.Controls {
		r, err := runOne(ctx, cfg, c)
		if err != nil {
			return nil, err
		}
		res.Runs = append(res.Runs, *r)
	}
	return res, res.write(cfg)
}

// runOne brings up one cluster, measures it and brings it down.
func runOne(ctx context.Context, cfg Config, control int) (*Run1, error) {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	prefix := "weirbench" + hex.EncodeToString(b)
	dataDir := filepath.Join(cfg.Dir, prefix)
	listen, err := freePort()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "==> weir up --nodes %d --control %d (data %s)\n", cfg.Nodes, control, dataDir)
	var out bytes.Buffer
	up := exec.CommandContext(ctx, cfg.WeirBin, "up", "--nodes", fmt.Sprint(cfg.Nodes), "--control", fmt.Sprint(control),
		"--data-dir", dataDir, "--prefix", prefix, "--listen", listen, "--no-client-config")
	up.Stdout, up.Stderr = io.MultiWriter(&out, cfg.Log), io.MultiWriter(&out, cfg.Log)
	start := time.Now()
	err = up.Run()
	wall := time.Since(start)
	defer down(cfg, dataDir)
	if err != nil {
		return nil, fmt.Errorf("weir up --control %d: %w (output above; logs in %s/logs)", control, err, dataDir)
	}
	if !bytes.Contains(out.Bytes(), []byte("self-check passed")) {
		return nil, fmt.Errorf("weir up --control %d exited without a passing self-check", control)
	}
	r := &Run1{Control: control, UpSeconds: wall.Seconds()}
	fmt.Fprintf(cfg.Log, "==> up in %.2fs; idle %v, then reading memory\n", wall.Seconds(), cfg.Idle)
	procs, err := recorded(dataDir)
	if err != nil {
		return nil, err
	}
	before := cpuTimes(procs)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(cfg.Idle):
	}
	after := cpuTimes(procs)
	for _, p := range procs {
		m, err := readMem(p.PID)
		if err != nil {
			return nil, fmt.Errorf("%s (PID %d): %w", p.Name, p.PID, err)
		}
		m.Name, m.Component = p.Name, p.Component
		m.IdleCPUPercent = 100 * (after[p.PID] - before[p.PID]) / cfg.Idle.Seconds()
		r.Procs = append(r.Procs, m)
	}
	return r, nil
}

func down(cfg Config, dataDir string) {
	cmd := exec.Command(cfg.WeirBin, "down", "--data-dir", dataDir)
	cmd.Stdout, cmd.Stderr = cfg.Log, cfg.Log
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(cfg.Log, "weir down --data-dir %s: %v\n", dataDir, err)
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
