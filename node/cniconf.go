package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// CNIConfName is the conflist the agent writes for runtimes.
const CNIConfName = "10-weir.conflist"

// CNIConf is the weir-cni network config the agent writes (fields as
// documented in docs/cni.md).
type CNIConf struct {
	PodCIDR           string
	DataDir           string // IPAM store directory
	AgentSocket       string
	DataplaneInstance string
	MTU               int
	// PortMap chains the reference portmap plugin after weir-cni, which
	// forwards pods' host ports (the runtime passes them as the
	// portMappings capability).
	PortMap bool
}

// standardCNIBinDirs are where distributions install the reference CNI
// plugins (Debian's containernetworking-plugins: /usr/lib/cni).
var standardCNIBinDirs = []string{"/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni"}

// findCNIPlugin is the directory of plugin: the first of dirs, then of
// the standard directories, that holds it as an executable; "" if none.
func findCNIPlugin(plugin string, dirs []string) string {
	for _, d := range append(append([]string(nil), dirs...), standardCNIBinDirs...) {
		if fi, err := os.Stat(filepath.Join(d, plugin)); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return d
		}
	}
	return ""
}

// conflist renders the conflist JSON.
func (c CNIConf) conflist() ([]byte, error) {
	plugin := map[string]any{"type": "weir-cni", "podCIDR": c.PodCIDR}
	if c.DataDir != "" {
		plugin["dataDir"] = c.DataDir
	}
	if c.AgentSocket != "" {
		plugin["agentSocket"] = c.AgentSocket
	}
	if c.DataplaneInstance != "" {
		plugin["dataplaneInstance"] = c.DataplaneInstance
	}
	if c.MTU > 0 {
		plugin["mtu"] = c.MTU
	}
	plugins := []any{plugin}
	if c.PortMap {
		plugins = append(plugins, map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true})
	}
	// 1.0.0, not 1.1.0: the libcni inside Debian's containerd 1.6 rejects
	// 1.1.0 results ("unsupported CNI result version"). weir-cni serves
	// both; a runtime that wants STATUS and GC can use a 1.1.0 list.
	out, err := json.MarshalIndent(map[string]any{"cniVersion": "1.0.0", "name": "weir", "plugins": plugins}, "", "  ")
	return append(out, '\n'), err
}

// WriteCNIConf writes dir/10-weir.conflist atomically, only when it
// changed (runtimes watch the directory).
func WriteCNIConf(dir string, c CNIConf) error {
	data, err := c.conflist()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, CNIConfName)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("CNI config dir: %w", err)
	}
	tmp := filepath.Join(dir, "."+CNIConfName+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write CNI config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install CNI config: %w", err)
	}
	return nil
}
