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
	var members []*child
	for i, m := range s.Members {
		args, err := memberArgs(cfg, s, i)
		if err != nil {
			return nil, err
		}
		if i == 1 {
			// Joining members read the cluster secret the first one creates.
			if err := waitFile(ctx, members[0], s.Members[0], "cluster-secret"); err != nil {
				return nil, err
			}
		}
		step("starting control member %s (%s) in %s", m.Name, m.IP, s.Underlay)
		c, err := startProc(cfg, m.Name, s.Underlay, cfg.weir(), args...)
		if err != nil {
			return nil, err
		}
		members = append(members, c)
	}
	proxy, err := startProc(cfg, proxyProc, "", cfg.weir(), "up", "--proxy", "--listen", cfg.Listen,
		"--proxy-netns", s.Underlay, "--proxy-target", strings.Join(memberAPIs(s), ","))
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"token", "ca.crt"} {
		if err := waitFile(ctx, members[0], s.Members[0], f); err != nil {
			return nil, err
		}
	}
	api, err := client.New(client.Config{Server: "https://" + cfg.Listen, Token: tokenOf(cfg),
		CAFile: filepath.Join(cfg.controlDir(), "ca.crt"), Timeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	procs := append([]*child{proxy}, members...)
	var exited error
	if err := waitFor(ctx, "the API through "+cfg.Listen, 30*time.Second, func() (bool, error) {
		if exited = firstExited(procs); exited != nil {
			return false, exited
		}
		_, err := api.Get(ctx, gvrNamespaces, "", "default")
		return err == nil, nil
	}); err != nil {
		api.Close()
		if exited != nil {
			return nil, exited // it names its log
		}
		return nil, fmt.Errorf("%w; see %s and %s", err, cfg.logFile(s.Members[0].Name), cfg.logFile(proxyProc))
	}
	if err := waitVoters(ctx, s, procs, api); err != nil {
		api.Close()
		return nil, err
	}
	return api, nil
}

// firstExited is the exit of the first of procs that exited, if any.
func firstExited(procs []*child) error {
	for _, c := range procs {
		if err := c.exited(); err != nil {
			return err
		}
	}
	return nil
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

// waitFile waits until member m (its process c) has written name into
// its data dir; it fails as soon as c exits, with how and its log's end.
func waitFile(ctx context.Context, c *child, m memberSpec, name string) error {
	return waitFor(ctx, m.Name+"'s "+name, 30*time.Second, func() (bool, error) {
		if err := c.exited(); err != nil {
			return false, fmt.Errorf("weir server %w", err)
		}
		_, err := os.Stat(filepath.Join(m.Dir, name))
		return err == nil, nil
	})
}

// waitVoters waits until every member of s is a voter and one leads; it
// fails as soon as one of procs exits.
func waitVoters(ctx context.Context, s state, procs []*child, api *client.Client) error {
	var last string
	err := waitFor(ctx, fmt.Sprintf("%d control members to be voters", len(s.Members)), 60*time.Second, func() (bool, error) {
		if err := firstExited(procs); err != nil {
			return false, err
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
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		if id, ok := runningRecorded(cfg, name, "weir"); ok {
			return name, id.PID, true
		}
	}
	return "", 0, false
}
