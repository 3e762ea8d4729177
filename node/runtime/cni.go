package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	corev1 "k8s.io/api/core/v1"
)

// nsExec runs CNI plugins inside the node's network namespace (nsenter),
// so host veths land next to the node's underlay, not in the agent's.
type nsExec struct{ netns string }

func (e nsExec) ExecPlugin(ctx context.Context, plugin string, stdin []byte, env []string) ([]byte, error) {
	args := []string{plugin}
	if e.netns != "" {
		args = []string{"nsenter", "--net=" + e.netns, plugin}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env, cmd.Stdin = env, bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var cniErr types.Error
		if json.Unmarshal(stdout.Bytes(), &cniErr) == nil && cniErr.Code != 0 {
			return nil, &cniErr
		}
		return nil, fmt.Errorf("%s: %w: %s", plugin, err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

func (nsExec) FindInPath(plugin string, paths []string) (string, error) {
	return invoke.FindInPath(plugin, paths)
}

func (nsExec) Decode(data []byte) (version.PluginInfo, error) {
	return (&version.PluginDecoder{}).Decode(data)
}

// network wires pods through the node's conflist.
type network struct {
	cni      *libcni.CNIConfig
	confFile string
}

func newNetwork(cfg Config, cacheDir string) *network {
	return &network{cni: libcni.NewCNIConfigWithCacheDir(cfg.CNIBinDirs, cacheDir, nsExec{netns: cfg.NodeNetns}), confFile: cfg.CNIConfFile}
}

func (n *network) runtimeConf(id, netnsPath string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: id, NetNS: netnsPath, IfName: "eth0"}
}

// portMapping is one host port in the CNI portMappings capability
// (the form containerd's CRI passes).
type portMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// hostPorts are the host ports of a pod with its own network.
func hostPorts(pod *corev1.Pod) []portMapping {
	if pod.Spec.HostNetwork {
		return nil
	}
	var out []portMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := strings.ToLower(string(p.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			out = append(out, portMapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: proto, HostIP: p.HostIP})
		}
	}
	return out
}

// add runs ADD and returns the pod's first IPv4 address. Host ports go
// to the plugins with the portMappings capability; a conflist without
// one cannot forward them, and the pod fails rather than run without.
func (n *network) add(ctx context.Context, id, netnsPath string, ports []portMapping) (netip.Addr, error) {
	list, err := libcni.ConfListFromFile(n.confFile)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("CNI config %s (the agent writes it once registered): %w", n.confFile, err)
	}
	rc := n.runtimeConf(id, netnsPath)
	if len(ports) > 0 {
		if !slices.ContainsFunc(list.Plugins, func(p *libcni.NetworkConfig) bool { return p.Network.Capabilities["portMappings"] }) {
			return netip.Addr{}, fmt.Errorf("the pod has host ports, but no plugin of the CNI config %s forwards them (portMappings capability): install the reference CNI plugins (Debian: containernetworking-plugins) so that the agent chains portmap", n.confFile)
		}
		rc.CapabilityArgs = map[string]any{"portMappings": ports}
	}
	res, err := n.cni.AddNetworkList(ctx, list, rc)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("CNI ADD: %w", err)
	}
	return firstIPv4(res)
}

func firstIPv4(res types.Result) (netip.Addr, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("CNI result: %w", err)
	}
	for _, ip := range r.IPs {
		if a, ok := netip.AddrFromSlice(ip.Address.IP); ok && a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("CNI ADD returned no IPv4 address")
}

// del runs DEL (idempotent in weir-cni; no netns needed).
func (n *network) del(ctx context.Context, id, netnsPath string) error {
	list, err := libcni.ConfListFromFile(n.confFile)
	if err != nil {
		return fmt.Errorf("CNI config %s: %w", n.confFile, err)
	}
	if err := n.cni.DelNetworkList(ctx, list, n.runtimeConf(id, netnsPath)); err != nil {
		return fmt.Errorf("CNI DEL: %w", err)
	}
	return nil
}

// cached is the IPv4 address of an earlier ADD from libcni's cache.
func (n *network) cached(id, netnsPath string) (netip.Addr, error) {
	list, err := libcni.ConfListFromFile(n.confFile)
	if err != nil {
		return netip.Addr{}, err
	}
	res, err := n.cni.GetNetworkListCachedResult(list, n.runtimeConf(id, netnsPath))
	if err != nil || res == nil {
		return netip.Addr{}, fmt.Errorf("no cached CNI result for %s: %v", id, err)
	}
	return firstIPv4(res)
}
