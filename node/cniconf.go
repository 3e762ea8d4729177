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
	// 1.0.0, not 1.1.0: the libcni inside Debian's containerd 1.6 rejects
	// 1.1.0 results ("unsupported CNI result version"). weir-cni serves
	// both; a runtime that wants STATUS and GC can use a 1.1.0 list.
	out, err := json.MarshalIndent(map[string]any{"cniVersion": "1.0.0", "name": "weir", "plugins": []any{plugin}}, "", "  ")
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
