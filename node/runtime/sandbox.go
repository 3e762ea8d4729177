package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// sandbox is a pod's network namespace, address and files.
type sandbox struct {
	id      string // pod UID; CNI container ID
	netns   string // `ip netns` name
	dir     string // pod files
	podIP   netip.Addr
	cgroupR string            // cgroupsPath of the pod dir, relative to the cgroup2 mount
	hostNet string            // hostNetwork pods: the node's netns path (hostnet.go)
	volumes map[string]string // host dirs of materialized volumes (volumes.go)

	writable map[string]bool // volumes containers may mount read-write (emptyDirs)
}

func (s *sandbox) netnsPath() string {
	if s.hostNet != "" {
		return s.hostNet
	}
	return filepath.Join("/run/netns", s.netns)
}

func (r *Runtime) newSandbox(pod *corev1.Pod) *sandbox {
	uid := string(pod.UID)
	short := strings.ReplaceAll(uid, "-", "")
	if len(short) > 12 {
		short = short[:12]
	}
	s := &sandbox{id: uid, netns: "weir-pod-" + short, dir: filepath.Join(r.cfg.DataDir, "pods", uid),
		cgroupR: filepath.Join(r.cgroupRel, "pod"+short)}
	if pod.Spec.HostNetwork {
		s.hostNet = r.hostNetns()
	}
	return s
}

// setUp creates the netns, wires it and writes hosts and resolv.conf. On
// error what was made is removed again.
func (r *Runtime) setUp(ctx context.Context, s *sandbox, pod *corev1.Pod) (err error) {
	defer func() {
		if err != nil {
			r.tearDown(context.WithoutCancel(ctx), s)
		}
	}()
	if s.hostNet != "" {
		return r.setUpHostNet(s, pod)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("pod dir: %w", err)
	}
	if _, err := os.Stat(s.netnsPath()); errors.Is(err, os.ErrNotExist) {
		if out, err := exec.CommandContext(ctx, "ip", "netns", "add", s.netns).CombinedOutput(); err != nil {
			return fmt.Errorf("create network namespace %s: %v: %s", s.netns, err, out)
		}
	}
	if out, err := exec.CommandContext(ctx, "ip", "-n", s.netns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("loopback up in %s: %v: %s", s.netns, err, out)
	}
	ip, err := r.net.add(ctx, s.id, s.netnsPath(), hostPorts(pod))
	if err != nil {
		return err
	}
	s.podIP = ip
	if err := os.WriteFile(filepath.Join(s.dir, "hosts"), podHosts(pod, ip, r.cfg.ClusterDomain), 0o644); err != nil {
		return fmt.Errorf("pod hosts file: %w", err)
	}
	return os.WriteFile(filepath.Join(s.dir, "resolv.conf"), resolvConf(pod, r.cfg.ClusterDNS, r.cfg.ClusterDomain), 0o644)
}

// tearDown removes the network, the namespace, the cgroups, the mounts
// and the files; each step runs even when an earlier one failed.
func (r *Runtime) tearDown(ctx context.Context, s *sandbox) error {
	var errs []error
	if r.cfg.Volumes != nil {
		r.cfg.Volumes.TearDown(types.UID(s.id))
	}
	if s.hostNet == "" { // a hostNetwork pod has no network of its own
		errs = append(errs, r.tearDownNetwork(ctx, s))
	}
	if err := removePodCgroups(r.cgroupMount, s.cgroupR); err != nil {
		errs = append(errs, err)
	}
	// unmount (emptyDir tmpfs) first: never delete a mounted file
	// system's contents or leave its mount behind
	if err := unmountUnder(s.dir); err != nil {
		errs = append(errs, err)
	} else if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// tearDownNetwork runs CNI DEL and removes the pod's namespace.
func (r *Runtime) tearDownNetwork(ctx context.Context, s *sandbox) error {
	var errs []error
	if err := r.net.del(ctx, s.id, s.netnsPath()); err != nil {
		errs = append(errs, err)
	}
	if _, err := os.Stat(s.netnsPath()); err == nil {
		if out, err := exec.CommandContext(ctx, "ip", "netns", "del", s.netns).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("delete network namespace %s: %v: %s", s.netns, err, out))
		}
	}
	return errors.Join(errs...)
}

// setUpOrAdopt adopts a sandbox a previous agent left (namespace present
// and a cached CNI result), or sets one up.
func (r *Runtime) setUpOrAdopt(ctx context.Context, s *sandbox, pod *corev1.Pod) error {
	if _, err := os.Stat(s.netnsPath()); err == nil {
		if ip, err := r.net.cached(s.id, s.netnsPath()); err == nil {
			s.podIP = ip
			return r.setUpVolumes(ctx, s, pod)
		}
	}
	if err := r.setUp(ctx, s, pod); err != nil {
		return err
	}
	return r.setUpVolumes(ctx, s, pod)
}
