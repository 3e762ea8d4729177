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
	ip, err := r.net.add(ctx, s.id, s.netnsPath())
	if err != nil {
		return err
	}
	s.podIP = ip
	if err := writeHosts(filepath.Join(s.dir, "hosts"), hostname(pod), ip); err != nil {
		return err
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

func hostname(pod *corev1.Pod) string {
	if pod.Spec.HostNetwork && pod.Spec.NodeName != "" {
		return pod.Spec.NodeName // the node's, as the host's UTS namespace would give
	}
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	return pod.Name
}

func writeHosts(path, host string, ip netip.Addr) error {
	data := fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", ip, host)
	return os.WriteFile(path, []byte(data), 0o644)
}

// resolvConf follows dnsPolicy: ClusterFirst (the default) points at the
// cluster DNS with the namespace's search path; Default copies the host's.
func resolvConf(pod *corev1.Pod, dnsIP, zone string) []byte {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if dnsIP == "" || policy == corev1.DNSDefault || (policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork) {
		if data, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			return data
		}
		return nil
	}
	ns := pod.Namespace
	if ns == "" {
		ns = "default"
	}
	return fmt.Appendf(nil, "nameserver %s\nsearch %s.svc.%s svc.%s %s\noptions ndots:5\n", dnsIP, ns, zone, zone, zone)
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
