package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ownerSpec is what an owner process is told to do.
type ownerSpec struct {
	Config  Config  `json:"config"`
	Desired Desired `json:"desired"`
}

// ownerMain is a process owning the dataplane for a moment: it loads or
// adopts cfg's instance, syncs, prints the stats and the dump, and exits,
// leaving pins and attachments behind (as a crashed or upgraded agent does).
func ownerMain() int {
	var spec ownerSpec
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		fmt.Fprintln(os.Stderr, "owner: bad spec:", err)
		return 2
	}
	m, err := New(spec.Config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "owner:", err)
		return 1
	}
	stats, err := m.Sync(context.Background(), spec.Desired)
	if err != nil {
		fmt.Fprintln(os.Stderr, "owner: sync:", err)
		return 1
	}
	fmt.Printf("stats added=%d updated=%d removed=%d unchanged=%d writes=%d\n",
		stats.Added, stats.Updated, stats.Removed, stats.Unchanged, stats.Writes)
	if err := m.Dump(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "owner: dump:", err)
		return 1
	}
	m.Close()
	return 0
}

// runOwner runs an owner process to completion and returns its output.
func runOwner(t *testing.T, cfg Config, d Desired) string {
	t.Helper()
	cfg.Logger, cfg.Registerer = nil, nil
	spec, err := json.Marshal(ownerSpec{Config: cfg, Desired: d})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WEIR_DP_CHILD=owner")
	cmd.Stdin = strings.NewReader(string(spec))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("owner process: %v: %s", err, stderr.String())
	}
	return string(out)
}
