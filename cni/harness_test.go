package cni_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/weirnet/weir/cni/ipam"
	"github.com/weirnet/weir/tests/testutil"
)

// binDir holds the weir-cni binary built once per test process.
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "weir-cni-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pluginBinary builds cmd/weir-cni with `go build` (once) and returns its path.
func pluginBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "weir-cni"), "github.com/weirnet/weir/cmd/weir-cni").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build weir-cni: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "weir-cni")
}

// node is a "host" network namespace the plugin runs in, never the test's
// own namespace, with its own IPAM data dir.
type node struct {
	t        testing.TB
	bin      string
	host     *testutil.Netns
	dataDir  string
	instance string // dataplane instance with no pinned program
}

func newNode(t testing.TB) *node {
	t.Helper()
	testutil.RequirePrivileged(t)
	return &node{
		t: t, bin: pluginBinary(t), host: testutil.NewNetns(t, "h"),
		dataDir: t.TempDir(), instance: testutil.UniqueName("weirt"),
	}
}

// conf returns a network configuration with the test's data dir, an agent
// socket that does not exist and a dataplane instance without programs,
// overridden by over (a nil value deletes the field).
func (n *node) conf(version string, over map[string]any) []byte {
	c := map[string]any{
		"cniVersion": version, "name": "weir", "type": "weir-cni", "podCIDR": "10.244.1.0/24",
		"dataDir": n.dataDir, "agentSocket": filepath.Join(n.dataDir, "no-agent.sock"),
		"dataplaneInstance": n.instance,
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		n.t.Fatal(err)
	}
	return b
}

// call is one plugin invocation.
type call struct {
	cmd, id, netns, ifname string
	stdin                  []byte
	env                    map[string]string // extra or overriding CNI_* variables ("" deletes)
}

// outcome is what the plugin printed: a result or a CNI error.
type outcome struct {
	stdout []byte
	err    *types.Error // nil on success
}

func (c call) environ(bin string) []string {
	env := map[string]string{
		"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "CNI_COMMAND": c.cmd,
		"CNI_CONTAINERID": c.id, "CNI_NETNS": c.netns, "CNI_IFNAME": c.ifname, "CNI_PATH": filepath.Dir(bin),
	}
	for k, v := range c.env {
		env[k] = v
	}
	var out []string
	for k, v := range env {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// command prepares the plugin to run inside the node's host netns. nsenter
// switches only the network namespace (ip netns exec would also remount
// /sys and hide bpffs).
func (n *node) command(c call) *exec.Cmd {
	cmd := exec.Command("nsenter", "--net=/run/netns/"+n.host.Name, n.bin)
	cmd.Env = c.environ(n.bin)
	cmd.Stdin = bytes.NewReader(c.stdin)
	return cmd
}

// run executes the plugin and checks the protocol's shape: exit 0 with a
// JSON result (or nothing), or non-zero with a CNI error JSON on stdout.
func (n *node) run(c call) outcome {
	n.t.Helper()
	cmd := n.command(c)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if d := time.Since(start); d > 2*time.Second {
		n.t.Logf("slow %s %s: %s", c.cmd, c.id, d)
	}
	return parseOutcome(n.t, c, stdout.Bytes(), stderr.Bytes(), err)
}

func parseOutcome(t testing.TB, c call, stdout, stderr []byte, runErr error) outcome {
	t.Helper()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		t.Fatalf("%s: run plugin: %v", c.cmd, runErr)
	}
	if len(stdout) > 0 && !json.Valid(stdout) {
		t.Fatalf("%s: stdout is not one JSON document: %q (stderr %q)", c.cmd, stdout, stderr)
	}
	if runErr == nil {
		return outcome{stdout: stdout}
	}
	var e struct {
		CNIVersion string `json:"cniVersion"`
		types.Error
	}
	if err := json.Unmarshal(stdout, &e); err != nil || e.Code == 0 || e.Msg == "" || e.CNIVersion == "" {
		t.Fatalf("%s: exit %v without a CNI error (cniVersion, code, msg) on stdout: %q (stderr %q)", c.cmd, runErr, stdout, stderr)
	}
	return outcome{stdout: stdout, err: &e.Error}
}

// ok fails the test unless the call succeeded.
func (o outcome) ok(t testing.TB, what string) outcome {
	t.Helper()
	if o.err != nil {
		t.Fatalf("%s: CNI error %d: %s", what, o.err.Code, o.err.Error())
	}
	return o
}

// code fails the test unless the call failed with code and a message
// containing every string in mention.
func (o outcome) code(t testing.TB, what string, code uint, mention ...string) {
	t.Helper()
	if o.err == nil {
		t.Fatalf("%s: succeeded (%s), want CNI error %d", what, o.stdout, code)
	}
	if o.err.Code != code {
		t.Fatalf("%s: CNI error %d (%s), want %d", what, o.err.Code, o.err.Error(), code)
	}
	for _, m := range mention {
		if !strings.Contains(o.err.Error(), m) {
			t.Fatalf("%s: message %q does not mention %q", what, o.err.Error(), m)
		}
	}
}

// result decodes a successful ADD.
func (o outcome) result(t testing.TB) *current.Result {
	t.Helper()
	var r current.Result
	if err := json.Unmarshal(o.stdout, &r); err != nil {
		t.Fatalf("decode result %s: %v", o.stdout, err)
	}
	return &r
}

// withPrev returns conf with prevResult set to the raw result.
func withPrev(t testing.TB, conf []byte, prev []byte) []byte {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(conf, &c); err != nil {
		t.Fatal(err)
	}
	c["prevResult"] = json.RawMessage(prev)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// allocations lists the node's IPAM store (after the plugin exited), checking its consistency.
func (n *node) allocations() []ipam.Allocation {
	n.t.Helper()
	var all []ipam.Allocation
	err := ipam.With(n.dataDir, "weir", ipam.Options{}, func(s *ipam.Store) error {
		if err := s.Check(); err != nil {
			return err
		}
		var err error
		all, err = s.List()
		return err
	})
	if err != nil {
		n.t.Fatal(err)
	}
	return all
}

// links lists link names in a namespace.
func links(t testing.TB, ns string) []string {
	t.Helper()
	out, err := exec.Command("ip", "-n", ns, "-o", "link", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s link: %v: %s", ns, err, out)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 {
			names = append(names, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
