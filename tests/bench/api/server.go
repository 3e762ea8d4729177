package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// server is one `weir server` process started for the benchmark.
type server struct {
	name string
	cmd  *exec.Cmd
	dir  string
	base string // https://127.0.0.1:PORT, or http:// for a baseline without TLS
	tok  string
	hc   *http.Client
	tls  *tls.Config // trusts the cluster CA (nil over plain HTTP)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs `bin server` as a one-member cluster in dir and waits
// until its API is ready, over HTTPS trusting the cluster CA when the
// build serves TLS, else over plain HTTP (builds before TLS).
func startServer(ctx context.Context, name, bin, dir string) (*server, error) {
	api, err := freePort()
	if err != nil {
		return nil, err
	}
	peer, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "server", "--name", "bench", "--data-dir", filepath.Join(dir, "data"),
		"--listen", fmt.Sprintf("127.0.0.1:%d", api), "--peer", fmt.Sprintf("127.0.0.1:%d", peer),
		"--bootstrap", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s server: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, dir: dir}
	if err := s.waitReady(ctx, api); err != nil {
		s.close()
		return nil, fmt.Errorf("%s server: %w (log: %s)", name, err, filepath.Join(dir, "server.log"))
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	data := filepath.Join(s.dir, "data")
	var last error
	for ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		tok, err := os.ReadFile(filepath.Join(data, "token"))
		if err != nil {
			last = err
			continue
		}
		s.tok = strings.TrimSpace(string(tok))
		for _, scheme := range []string{"https", "http"} {
			hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			if scheme == "https" {
				pem, err := os.ReadFile(filepath.Join(data, "ca.crt"))
				if err != nil {
					last = err
					continue
				}
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(pem)
				hc.Transport = &http.Transport{MaxIdleConnsPerHost: 256, TLSClientConfig: &tls.Config{RootCAs: pool}}
			}
			base := fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
			req, _ := http.NewRequestWithContext(ctx, "GET", base+"/readyz", nil)
			req.Header.Set("Authorization", "Bearer "+s.tok)
			resp, err := hc.Do(req)
			if err != nil {
				last = err
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.base, s.hc = base, hc
				if t, ok := hc.Transport.(*http.Transport); ok {
					s.tls = t.TLSClientConfig
				}
				return nil
			}
			last = fmt.Errorf("readyz %d", resp.StatusCode)
		}
	}
	return fmt.Errorf("not ready within 60 s: %v", last)
}

// do sends one request with the token and returns the body of a 2xx.
func (s *server) do(ctx context.Context, method, path, accept, ct string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.tok)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return data, nil
}

// cpuProfile saves a CPU profile of the server over the next seconds
// (its /debug/pprof/profile) to path.
func (s *server) cpuProfile(ctx context.Context, seconds int, path string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds+30)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.base, seconds), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.tok)
	resp, err := (&http.Client{Transport: s.hc.Transport}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %d %s", resp.StatusCode, data)
	}
	return os.WriteFile(path, data, 0o644)
}

// pid is the server's process ID.
func (s *server) pid() int { return s.cmd.Process.Pid }

// close stops the server (SIGTERM, then SIGKILL after 10 s) and waits.
func (s *server) close() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// buildBaseline builds cmd/weir at rev into dir/weir from a temporary git
// worktree of the repository at repo, and removes the worktree.
func buildBaseline(ctx context.Context, log io.Writer, repo, rev, dir string) (string, error) {
	wt := filepath.Join(dir, "baseline-src")
	run := func(dir string, name string, args ...string) error {
		c := exec.CommandContext(ctx, name, args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
		}
		return nil
	}
	fmt.Fprintf(log, "api bench: building the baseline weir at %s (git worktree + go build)\n", rev)
	if err := run(repo, "git", "worktree", "add", "--detach", wt, rev); err != nil {
		return "", err
	}
	defer run(repo, "git", "worktree", "remove", "--force", wt)
	bin := filepath.Join(dir, "weir-baseline")
	if err := run(wt, "go", "build", "-o", bin, "./cmd/weir"); err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", errors.New("baseline build wrote no binary")
	}
	return bin, nil
}

func newRequest(ctx context.Context, s *server, path, accept string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.tok)
	req.Header.Set("Accept", accept)
	return req, nil
}
