package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Options configure a cluster.
type Options struct {
	Bin     string   // the weir binary
	Dir     string   // base directory: one data dir and one log per member
	Members int      // number of members (default 3)
	Args    []string // extra `weir server` flags for every member
	// NoBootstrap starts the first member without --bootstrap: its data
	// dir already holds a cluster (e.g. from `weir snapshot restore`).
	NoBootstrap bool
	// Logf reports progress (member started, killed, ...); may be nil.
	Logf func(format string, args ...any)
}

// Cluster is a running set of `weir server` processes.
type Cluster struct {
	opts       Options
	Token      string
	SecretFile string
	TokenFile  string
	Members    []*Member
}

// Start launches the members (the first with --bootstrap, the others with
// --join to it, all at once) and waits until every one of them sees all
// members as voters, a leader, and the default namespace. On error every
// started process is killed again.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := Prepare(opts)
	if err != nil {
		return nil, err
	}
	return c, c.Launch(ctx)
}

// Prepare writes the shared secret and token and lays out the members
// (names, ports, data dirs) without starting them.
func Prepare(opts Options) (*Cluster, error) {
	if opts.Members == 0 {
		opts.Members = 3
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if _, err := os.Stat(opts.Bin); err != nil {
		return nil, fmt.Errorf("weir binary: %w (run `make build`)", err)
	}
	c := &Cluster{opts: opts, Token: randomHex(24)}
	c.SecretFile = filepath.Join(opts.Dir, "cluster-secret")
	c.TokenFile = filepath.Join(opts.Dir, "token")
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create cluster dir: %w", err)
	}
	if err := os.WriteFile(c.SecretFile, []byte(randomHex(32)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write cluster secret: %w", err)
	}
	if err := os.WriteFile(c.TokenFile, []byte(c.Token+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write token: %w", err)
	}
	ports, err := FreePorts(2 * opts.Members)
	if err != nil {
		return nil, err
	}
	for i := 0; i < opts.Members; i++ {
		name := fmt.Sprintf("m%d", i+1)
		m := &Member{
			Name: name, DataDir: filepath.Join(opts.Dir, name), LogPath: filepath.Join(opts.Dir, name+".log"),
			APIAddr:  fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			PeerAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			bin:      opts.Bin, logf: opts.Logf,
		}
		m.args = []string{"server", "--name", name, "--data-dir", m.DataDir,
			"--listen", m.APIAddr, "--peer", m.PeerAddr,
			"--cluster-secret-file", c.SecretFile, "--token-file", c.TokenFile}
		if i == 0 && !opts.NoBootstrap {
			m.args = append(m.args, "--bootstrap")
		} else if i > 0 {
			m.args = append(m.args, "--join", c.Members[0].PeerAddr)
		}
		m.args = append(m.args, opts.Args...)
		c.Members = append(c.Members, m)
	}
	// Every client trusts the CA the members write into their data dirs
	// (the first member's, else any other's).
	var caFiles []string
	for _, m := range c.Members {
		caFiles = append(caFiles, filepath.Join(m.DataDir, "ca.crt"))
	}
	for _, m := range c.Members {
		m.Client = NewClient(m.APIAddr, c.Token, caFiles...)
	}
	return c, nil
}

// Launch starts every member of a prepared cluster at once and waits until
// it is ready (see Start). On error every started process is killed.
func (c *Cluster) Launch(ctx context.Context) error {
	for _, m := range c.Members {
		if err := m.start(); err != nil {
			c.Close()
			return err
		}
	}
	if err := c.WaitReady(ctx, len(c.Members)); err != nil {
		c.Close()
		return fmt.Errorf("%w\n%s", err, c.LogTails(20))
	}
	return nil
}

// Close kills every running member and waits for it. Idempotent.
func (c *Cluster) Close() {
	for _, m := range c.Members {
		m.Kill()
	}
}

// WaitReady waits until every running member reports `voters` voters, a
// leader, and serves the default namespace.
func (c *Cluster) WaitReady(ctx context.Context, voters int) error {
	var last error
	for {
		last = c.ready(ctx, voters)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) ready(ctx context.Context, voters int) error {
	for _, m := range c.Members {
		if !m.Running() {
			continue
		}
		if err := m.Ready(ctx, voters); err != nil {
			return err
		}
	}
	return nil
}

// Leader returns the index of the member that leads, as confirmed by the
// leader itself, waiting for one until ctx ends.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	for {
		for i, m := range c.Members {
			if !m.Running() {
				continue
			}
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			ms, err := m.Client.Members(qctx)
			cancel()
			if err == nil && leaderName(ms) == m.Name {
				return i, nil
			}
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("no leader: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Running lists the indexes of the members whose process runs.
func (c *Cluster) Running() []int {
	var out []int
	for i, m := range c.Members {
		if m.Running() {
			out = append(out, i)
		}
	}
	return out
}

// LogTails is the last n lines of every member's log, for failure reports.
func (c *Cluster) LogTails(n int) string {
	var out string
	for _, m := range c.Members {
		out += fmt.Sprintf("--- %s (%s), last %d lines:\n%s\n", m.Name, m.LogPath, n, tail(m.LogPath, n))
	}
	return out
}

// FreePorts returns n distinct free loopback TCP ports (held open together
// while choosing, so that they differ).
func FreePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errNotRunning = errors.New("member is not running")
