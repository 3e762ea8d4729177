package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// etcdCluster is a 3-member etcd cluster on loopback started by the
// benchmark.
type etcdCluster struct {
	members   []*etcdMember
	endpoints []string
	client    *clientv3.Client
}

type etcdMember struct {
	name string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// etcdVersion runs `etcd --version` and returns the server version.
func etcdVersion(bin string) (string, error) {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v (install Debian's etcd-server: make deps)", bin, err)
	}
	m := regexp.MustCompile(`etcd Version: (\S+)`).FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s --version: unexpected output %q", bin, out)
	}
	return string(m[1]), nil
}

// startEtcd starts three members with default settings (--snapshot-count
// default, fsync on) under dir and waits until they have a leader.
func startEtcd(ctx context.Context, bin, dir string) (*etcdCluster, error) {
	ports, err := cluster.FreePorts(6)
	if err != nil {
		return nil, err
	}
	var initial []string
	for i := 0; i < 3; i++ {
		initial = append(initial, fmt.Sprintf("e%d=http://127.0.0.1:%d", i+1, ports[2*i+1]))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	e := &etcdCluster{}
	for i := 0; i < 3; i++ {
		client := fmt.Sprintf("http://127.0.0.1:%d", ports[2*i])
		peer := fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1])
		m := &etcdMember{name: fmt.Sprintf("e%d", i+1), dir: filepath.Join(dir, fmt.Sprintf("e%d", i+1))}
		args := []string{"--name", m.name, "--data-dir", m.dir,
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "weir-bench", "--logger", "zap", "--log-outputs", "stderr"}
		if err := m.start(bin, args, filepath.Join(dir, m.name+".log")); err != nil {
			e.close()
			return nil, err
		}
		e.members = append(e.members, m)
		e.endpoints = append(e.endpoints, client)
	}
	if err := e.waitReady(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (m *etcdMember) start(bin string, args []string, logPath string) error {
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	m.cmd = exec.Command(bin, args...)
	m.cmd.Stdout, m.cmd.Stderr = lf, lf
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start etcd %s: %w", m.name, err)
	}
	m.done = make(chan struct{})
	go func() {
		_ = m.cmd.Wait()
		lf.Close()
		close(m.done)
	}()
	return nil
}

func (e *etcdCluster) waitReady(ctx context.Context) error {
	// The client's own log would only repeat "connection refused" while the
	// members start.
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("etcd client: %w", err)
	}
	e.client = cli
	deadline := time.Now().Add(60 * time.Second)
	for {
		ready := 0
		for _, ep := range e.endpoints {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := cli.Status(sctx, ep)
			cancel()
			if err == nil && st.Leader != 0 {
				ready++
			}
		}
		if ready == len(e.endpoints) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("etcd cluster not ready after 60 s (%d of 3 members have a leader)", ready)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pids lists the members' process ids.
func (e *etcdCluster) pids() []int {
	var out []int
	for _, m := range e.members {
		out = append(out, m.cmd.Process.Pid)
	}
	return out
}

// close stops every member (SIGTERM, then SIGKILL after 10 s).
func (e *etcdCluster) close() {
	if e.client != nil {
		e.client.Close()
	}
	for _, m := range e.members {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, m := range e.members {
		select {
		case <-m.done:
		case <-time.After(10 * time.Second):
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	}
}
