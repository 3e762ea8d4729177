package node

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

// TestCNIConfPortMap: with PortMap the conflist chains portmap after
// weir-cni with the portMappings capability, as libcni reads it.
func TestCNIConfPortMap(t *testing.T) {
	dir := t.TempDir()
	for _, pm := range []bool{false, true} {
		if err := WriteCNIConf(dir, CNIConf{PodCIDR: "10.244.1.0/24", PortMap: pm}); err != nil {
			t.Fatal(err)
		}
		list, err := libcni.ConfListFromFile(filepath.Join(dir, CNIConfName))
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if pm {
			want = 2
		}
		if len(list.Plugins) != want || list.Plugins[0].Network.Type != "weir-cni" {
			t.Fatalf("PortMap %v: plugins %d, first %q", pm, len(list.Plugins), list.Plugins[0].Network.Type)
		}
		if pm {
			p := list.Plugins[1]
			var raw map[string]any
			_ = json.Unmarshal(p.Bytes, &raw)
			if p.Network.Type != "portmap" || !p.Network.Capabilities["portMappings"] || raw["snat"] != true {
				t.Errorf("second plugin: %s", p.Bytes)
			}
		}
	}
}

func TestFindCNIPlugin(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(a, "portmap"), []byte("x"), 0o644); err != nil { // not executable
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "portmap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := findCNIPlugin("portmap", []string{a, b}); got != b {
		t.Errorf("found in %q, want %q (the first executable one)", got, b)
	}
	if got := findCNIPlugin("no-such-plugin-weir", []string{a, b}); got != "" {
		t.Errorf("found a missing plugin in %q", got)
	}
}
