package cni

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"golang.org/x/sys/unix"
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
// configuration from stdin, and writes the result, or a CNI error JSON
// with exit status 1, to stdout. Nothing else is ever written to stdout.
func Main(buildVersion string) {
	var stdin []byte
	if os.Getenv("CNI_COMMAND") != "" { // without it skel prints usage; a terminal's stdin is not read
		var err error
		if stdin, err = io.ReadAll(os.Stdin); err == nil {
			err = replaceStdin(stdin)
		}
		if err != nil {
			exitWith(types.NewError(types.ErrIOFailure, fmt.Sprintf("read the network configuration from stdin: %v", err), ""), stdin)
		}
	}
	if os.Getenv("CNI_COMMAND") == "VERSION" {
		printVersion(stdin)
		return
	}
	p := &Plugin{BPFFS: DefaultBPFFS}
	if e := skel.PluginMainFuncsWithError(p.Funcs(), Versions, "weir-cni "+buildVersion+": veth + IPAM plugin of weir"); e != nil {
		exitWith(e, stdin)
	}
}

// replaceStdin puts the bytes already read back behind fd 0 (as an
// in-memory file) for skel, which reads os.Stdin itself.
func replaceStdin(data []byte) error {
	fd, err := unix.MemfdCreate("weir-cni-stdin", unix.MFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "stdin")
	if _, err := f.Write(data); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	os.Stdin = f
	return nil
}

// exitWith prints e as the spec's error object, which carries the
// protocol version in use, and exits 1.
func exitWith(e *types.Error, stdin []byte) {
	out := struct {
		CNIVersion string `json:"cniVersion"`
		*types.Error
	}{CNIVersion: errorVersion(stdin), Error: e}
	b, err := json.MarshalIndent(out, "", "    ")
	if err != nil {
		b = []byte(`{"code":999,"msg":"weir-cni: cannot encode its error"}`)
	}
	_, _ = os.Stdout.Write(append(b, '\n'))
	os.Exit(1)
}

// printVersion answers VERSION. The spec wants the input's cniVersion
// echoed (skel would print its library's own version instead).
func printVersion(stdin []byte) {
	var in struct {
		CNIVersion string `json:"cniVersion"`
	}
	_ = json.Unmarshal(stdin, &in)
	if in.CNIVersion == "" {
		in.CNIVersion = errorVersion(nil)
	}
	b, _ := json.Marshal(map[string]any{"cniVersion": in.CNIVersion, "supportedVersions": Versions.SupportedVersions()})
	_, _ = os.Stdout.Write(append(b, '\n'))
}

// errorVersion is the configuration's cniVersion when weir-cni speaks it,
// otherwise the newest version it speaks.
func errorVersion(stdin []byte) string {
	var c struct {
		CNIVersion string `json:"cniVersion"`
	}
	_ = json.Unmarshal(stdin, &c)
	if supported(c.CNIVersion) {
		return c.CNIVersion
	}
	all := Versions.SupportedVersions()
	return all[len(all)-1]
}
