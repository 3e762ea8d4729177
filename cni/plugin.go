package cni

import (
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"
)

// Versions are the CNI spec versions weir-cni speaks.
var Versions = version.PluginSupports("1.0.0", "1.1.0")

// DefaultBPFFS is where bpffs is mounted and the dataplane pins programs.
const DefaultBPFFS = "/sys/fs/bpf"

// Plugin implements the CNI verbs. Its fields are the host facts the
// verbs depend on; Main fills them with the real ones.
type Plugin struct {
	// BPFFS is the bpffs mount under which the dataplane pins its programs
	// (<BPFFS>/weir/<instance>/prog_tc_pod).
	BPFFS string
}

// Funcs returns the verbs in the form skel dispatches on.
func (p *Plugin) Funcs() skel.CNIFuncs {
	return skel.CNIFuncs{Add: p.Add, Del: p.Del, Check: p.Check, Status: p.Status, GC: p.GC}
}

// Main runs the plugin: it reads CNI_* from the environment and the
// configuration from stdin, and writes the result or a CNI error JSON to
// stdout (exit 1 on error). Nothing else is ever written to stdout.
func Main(buildVersion string) {
	p := &Plugin{BPFFS: DefaultBPFFS}
	skel.PluginMainFuncs(p.Funcs(), Versions, "weir-cni "+buildVersion+": veth + IPAM plugin of weir")
}
