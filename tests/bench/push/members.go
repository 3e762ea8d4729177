package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/weirnet/weir/tests/benchreport"
	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// member is one `weir server` process.
type member struct {
	name, dir, api, peer, nodes string
	client                      *cluster.Client
	cmd                         *exec.Cmd
	done                        chan struct{}
}

// controlPlane is three members on loopback, each serving the node stream.
type controlPlane struct {
	dir     string
	token   string
	caPEM   []byte
	members []*member
}

func startControlPlane(ctx context.Context, cfg Config) (*controlPlane, error) {
	dir, err := os.MkdirTemp(cfg.Dir, "weir-bench-push-")
	if err != nil {
		return nil, err
	}
	cp := &controlPlane{dir: dir, token: randomHex(24)}
	secret, tokenFile := filepath.Join(dir, "cluster-secret"), filepath.Join(dir, "token")
	if err := os.WriteFile(secret, []byte(randomHex(32)+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(tokenFile, []byte(cp.token+"\n"), 0o600); err != nil {
		return nil, err
	}
	ports, err := cluster.FreePorts(3 * cfg.Members)
	if err != nil {
		return nil, err
	}
	for i := 0; i < cfg.Members; i++ {
		m := &member{name: fmt.Sprintf("m%d", i+1), dir: filepath.Join(dir, fmt.Sprintf("m%d", i+1)),
			api: addr(ports[3*i]), peer: addr(ports[3*i+1]), nodes: addr(ports[3*i+2]), done: make(chan struct{})}
		m.client = cluster.NewClient(m.api, cp.token, filepath.Join(dir, "m1", "ca.crt"), filepath.Join(m.dir, "ca.crt"))
		args := []string{"server", "--name", m.name, "--data-dir", m.dir, "--listen", m.api, "--peer", m.peer,
			"--node-listen", m.nodes, "--cluster-secret-file", secret, "--token-file", tokenFile, "--log-level", "warn"}
		args = append(args, cfg.ServerArgs...)
		if i == 0 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", cp.members[0].peer)
		}
		if err := m.start(cfg.WeirBin, filepath.Join(dir, m.name+".log"), args); err != nil {
			cp.Close()
			return nil, err
		}
		cp.members = append(cp.members, m)
	}
	if err := cp.waitReady(ctx); err != nil {
		cp.Close()
		return nil, err
	}
	return cp, nil
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func (m *member) start(bin, logPath string, args []string) error {
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer lf.Close()
	m.cmd = exec.Command(bin, args...)
	m.cmd.Stdout, m.cmd.Stderr = lf, lf
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("start member %s: %w", m.name, err)
	}
	go func() { defer close(m.done); _ = m.cmd.Wait() }()
	return nil
}

// waitReady waits for every member as a voter, a leader, the default namespace and
// the cluster CA on every member.
func (cp *controlPlane) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, m := range cp.members {
		for {
			err := m.ready(ctx, len(cp.members))
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("member %s not ready: %w (logs in %s)", m.name, err, cp.dir)
			case <-m.done:
				return fmt.Errorf("member %s exited (log %s/%s.log)", m.name, cp.dir, m.name)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	var err error
	cp.caPEM, err = os.ReadFile(filepath.Join(cp.members[0].dir, "ca.crt"))
	return err
}

func (m *member) ready(ctx context.Context, want int) error {
	ms, err := m.client.Members(ctx)
	if err != nil {
		return err
	}
	voters, leader := 0, false
	for _, x := range ms {
		if x.Voter {
			voters++
		}
		leader = leader || x.Leader
	}
	if voters != want || !leader {
		return fmt.Errorf("%d voters, leader %v", voters, leader)
	}
	r, err := m.client.Do(ctx, "GET", "/api/v1/namespaces/default", nil)
	if err != nil || r.Code != 200 {
		return fmt.Errorf("default namespace: %d %v", r.Code, err)
	}
	if _, err := os.Stat(filepath.Join(m.dir, "ca.crt")); err != nil {
		return err
	}
	return nil
}

// Close kills the members by PID and removes their data.
func (cp *controlPlane) Close() {
	for _, m := range cp.members {
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	os.RemoveAll(cp.dir)
}

// usage is the members' summed CPU time and resident memory.
type usage struct {
	cpu    time.Duration
	rssKiB int64
}

func (cp *controlPlane) usage() (usage, error) {
	var u usage
	for _, m := range cp.members {
		pid := m.cmd.Process.Pid
		cpu, err := benchreport.ProcCPU(pid)
		if err != nil {
			return u, fmt.Errorf("member %s: %w", m.name, err)
		}
		u.cpu += cpu
		rss, err := cluster.ProcessRSSKiB(pid)
		if err != nil {
			return u, err
		}
		u.rssKiB += rss
	}
	return u, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
