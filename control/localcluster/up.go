package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/weirnet/weir/control/client"
)

// Config says where the local cluster lives.
type Config struct {
	DataDir string    // default /var/lib/weir
	Bin     string    // directory holding the weir binary (default: this executable's)
	Listen  string    // API address (default 127.0.0.1:6443)
	Peer    string    // peer address (default 127.0.0.1:2380)
	Out     io.Writer // progress
}

func (c *Config) defaults() error {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/weir"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:6443"
	}
	if c.Peer == "" {
		c.Peer = "127.0.0.1:2380"
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		c.Bin = filepath.Dir(exe)
	}
	return nil
}

func (c *Config) controlDir() string { return filepath.Join(c.DataDir, "control") }
func (c *Config) pidFile() string    { return filepath.Join(c.DataDir, "control-1.pid") }
func (c *Config) logFile() string    { return filepath.Join(c.DataDir, "control-1.log") }

// Up starts the control plane unless it already runs, waits until it is
// ready, and writes the client config.
func Up(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	if pid, ok := runningPID(cfg.pidFile()); ok {
		fmt.Fprintf(cfg.Out, "weir is already up (control member PID %d, API http://%s); `weir down` stops it\n", pid, cfg.Listen)
		return nil
	}
	step := func(s string) { fmt.Fprintf(cfg.Out, "==> %s\n", s) }
	step("starting control member control-1 (data in " + cfg.controlDir() + ")")
	pid, err := startServer(cfg)
	if err != nil {
		return err
	}
	step("waiting for the API to become ready")
	if err := waitReady(ctx, "http://"+cfg.Listen+"/readyz", 60*time.Second); err != nil {
		return fmt.Errorf("control member (PID %d) not ready: %w; see %s", pid, err, cfg.logFile())
	}
	token, err := os.ReadFile(filepath.Join(cfg.controlDir(), "token"))
	if err != nil {
		return fmt.Errorf("read API token: %w", err)
	}
	paths, err := writeClientConfigs(client.Config{Server: "http://" + cfg.Listen, Token: strings.TrimSpace(string(token))})
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Out, `
weir is up: control member control-1 (PID %d), API http://%s
client config written to %s

Try:
  weir get namespaces
  weir apply -f docs/examples/hello.yaml
  weir get configmaps -A
  weir members
Stop it with: sudo weir down (or sudo make down)
`, pid, cfg.Listen, strings.Join(paths, ", "))
	return nil
}

func startServer(cfg Config) (int, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return 0, err
	}
	logf, err := os.OpenFile(cfg.logFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	args := []string{"server", "--name", "control-1", "--data-dir", cfg.controlDir(), "--listen", cfg.Listen, "--peer", cfg.Peer}
	if _, err := os.Stat(filepath.Join(cfg.controlDir(), "raft.db")); errors.Is(err, os.ErrNotExist) {
		args = append(args, "--bootstrap")
	}
	cmd := exec.Command(filepath.Join(cfg.Bin, "weir"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start weir server: %w (run `make build` first)", err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	return pid, os.WriteFile(cfg.pidFile(), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("readyz: %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("timed out after %v: %v", timeout, last)
}

// writeClientConfigs writes ~/.weir/config for root and, under sudo, for
// the invoking user (owned by them).
func writeClientConfigs(c client.Config) ([]string, error) {
	var paths []string
	homes := map[string][2]int{}
	if home, err := os.UserHomeDir(); err == nil {
		homes[home] = [2]int{-1, -1}
	}
	if name := os.Getenv("SUDO_USER"); name != "" && name != "root" {
		if u, err := user.Lookup(name); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			homes[u.HomeDir] = [2]int{uid, gid}
		}
	}
	for home, owner := range homes {
		p := filepath.Join(home, ".weir", "config")
		if err := client.WriteConfig(p, c); err != nil {
			return nil, err
		}
		if owner[0] >= 0 {
			_ = os.Chown(filepath.Dir(p), owner[0], owner[1])
			_ = os.Chown(p, owner[0], owner[1])
		}
		paths = append(paths, p)
	}
	return paths, nil
}
