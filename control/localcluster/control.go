package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/weirnet/weir/control/client"
)

// startControl starts the control members (the first bootstraps, the
// others join it) and the API proxy, and returns a client once the API
// answers through the proxy and every member is a voter.
func startControl(ctx context.Context, cfg *Config, s state, step func(string, ...any)) (*client.Client, error) {
	first := s.Members[0]
	for i, m := range s.Members {
		args, err := memberArgs(cfg, s, i)
		if err != nil {
			return nil, err
		}
		if i == 1 {
			// Joining members read the cluster secret the first one creates.
			if err := waitFile(ctx, cfg, first, "cluster-secret"); err != nil {
				return nil, err
			}
		}
		step("starting control member %s (%s) in %s", m.Name, m.IP, s.Underlay)
		if _, err := startProc(cfg, m.Name, s.Underlay, cfg.weir(), args...); err != nil {
			return nil, err
		}
	}
	if _, err := startProc(cfg, proxyProc, "", cfg.weir(), "up", "--proxy", "--listen", cfg.Listen,
		"--proxy-netns", s.Underlay, "--proxy-target", strings.Join(memberAPIs(s), ",")); err != nil {
		return nil, err
	}
	for _, f := range []string{"token", "ca.crt"} {
		if err := waitFile(ctx, cfg, first, f); err != nil {
			return nil, err
		}
	}
	api, err := client.New(client.Config{Server: "http://" + cfg.Listen, Token: tokenOf(cfg), Timeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	if err := waitFor(ctx, "the API through "+cfg.Listen, 30*time.Second, func() (bool, error) {
		_, err := api.Get(ctx, gvrNamespaces, "", "default")
		return err == nil, nil
	}); err != nil {
		api.Close()
		return nil, fmt.Errorf("%w; see %s and %s", err, cfg.logFile(first.Name), cfg.logFile(proxyProc))
	}
	if err := waitVoters(ctx, cfg, s, api); err != nil {
		api.Close()
		return nil, err
	}
	return api, nil
}

// memberArgs is the `weir server` command line of member i.
func memberArgs(cfg *Config, s state, i int) ([]string, error) {
	_, port, err := net.SplitHostPort(cfg.Peer)
	if err != nil {
		return nil, fmt.Errorf("--peer %q: %w (want HOST:PORT)", cfg.Peer, err)
	}
	m := s.Members[i]
	args := []string{"server", "--name", m.Name, "--data-dir", m.Dir, "--listen", m.api(),
		"--peer", net.JoinHostPort(m.IP, port), "--node-listen", m.nodes(), "--cluster-cidr", clusterCIDR}
	args = append(args, cfg.ServerArgs...)
	_, statErr := os.Stat(filepath.Join(m.Dir, "raft.db"))
	fresh := errors.Is(statErr, os.ErrNotExist)
	if i == 0 {
		if fresh {
			args = append(args, "--bootstrap")
		}
		return args, nil
	}
	args = append(args, "--cluster-secret-file", filepath.Join(s.Members[0].Dir, "cluster-secret"))
	if fresh {
		var peers []string
		for j, o := range s.Members {
			if j != i {
				peers = append(peers, net.JoinHostPort(o.IP, port))
			}
		}
		args = append(args, "--join", strings.Join(peers, ","))
	}
	return args, nil
}

// waitFile waits until member m has written name into its data dir.
func waitFile(ctx context.Context, cfg *Config, m memberSpec, name string) error {
	return waitFor(ctx, m.Name+"'s "+name, 30*time.Second, func() (bool, error) {
		if _, ok := runningPID(cfg.pidFile(m.Name), "weir"); !ok {
			return false, fmt.Errorf("weir server %s exited; see %s", m.Name, cfg.logFile(m.Name))
		}
		_, err := os.Stat(filepath.Join(m.Dir, name))
		return err == nil, nil
	})
}

// waitVoters waits until every member of s is a voter and one leads.
func waitVoters(ctx context.Context, cfg *Config, s state, api *client.Client) error {
	var last string
	err := waitFor(ctx, fmt.Sprintf("%d control members to be voters", len(s.Members)), 60*time.Second, func() (bool, error) {
		for _, m := range s.Members {
			if _, ok := runningPID(cfg.pidFile(m.Name), "weir"); !ok {
				return false, fmt.Errorf("weir server %s exited; see %s", m.Name, cfg.logFile(m.Name))
			}
		}
		ms, err := api.Members(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		voters, leader := 0, false
		for _, m := range ms {
			if m.Voter {
				voters++
			}
			leader = leader || m.Leader
		}
		last = fmt.Sprintf("%d of %d voters, leader %t", voters, len(s.Members), leader)
		return voters == len(s.Members) && leader, nil
	})
	if err != nil {
		return fmt.Errorf("%w (%s)", err, last)
	}
	return nil
}

func memberAPIs(s state) []string {
	var out []string
	for _, m := range s.Members {
		out = append(out, m.api())
	}
	return out
}

func memberNodeAddrs(s state) []string {
	var out []string
	for _, m := range s.Members {
		out = append(out, m.nodes())
	}
	return out
}

// runningMember returns the first recorded control member that still
// runs (a cluster with one member down is still up).
func runningMember(cfg *Config) (string, int, bool) {
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "pids", "control-*.pid"))
	for _, f := range files {
		if pid, ok := runningPID(f, "weir"); ok {
			return strings.TrimSuffix(filepath.Base(f), ".pid"), pid, true
		}
	}
	return "", 0, false
}
