package runtime

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// hostNetns is the network namespace hostNetwork pods join: the node's
// (Config.NodeNetns) or else the agent's own. The agent's is named by
// its /proc path: runc opens it from another process.
func (r *Runtime) hostNetns() string {
	if r.cfg.NodeNetns != "" {
		return r.cfg.NodeNetns
	}
	return fmt.Sprintf("/proc/%d/ns/net", os.Getpid())
}

// nodeIP is the first valid address of Config.NodeIPs: a hostNetwork
// pod's IP.
func (r *Runtime) nodeIP() (netip.Addr, error) {
	for _, s := range r.cfg.NodeIPs {
		if ip, err := netip.ParseAddr(s); err == nil {
			return ip, nil
		}
	}
	return netip.Addr{}, errors.New("runtime: a hostNetwork pod's IP is the node's, and the node has no address: set Config.NodeIPs")
}

// setUpHostNet prepares a hostNetwork pod: no namespace of its own and no
// CNI; its IP is the node's, its /etc/hosts the host's plus the node's
// name, its resolv.conf per dnsPolicy (ClusterFirstWithHostNet: the
// cluster DNS; otherwise the host's).
func (r *Runtime) setUpHostNet(s *sandbox, pod *corev1.Pod) error {
	ip, err := r.nodeIP()
	if err != nil {
		return err
	}
	if _, err := os.Stat(s.hostNet); err != nil {
		return fmt.Errorf("node network namespace for hostNetwork pod: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("pod dir: %w", err)
	}
	s.podIP = ip
	if err := os.WriteFile(filepath.Join(s.dir, "hosts"), hostHosts(pod, r.cfg.NodeName, ip), 0o644); err != nil {
		return fmt.Errorf("pod hosts file: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "resolv.conf"), resolvConf(pod, r.cfg.ClusterDNS, r.cfg.ClusterDomain), 0o644); err != nil {
		return fmt.Errorf("pod resolv.conf: %w", err)
	}
	return nil
}
