package servicelatency

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// TestQuickRun runs every mode at 1 and 1,000 services with small samples.
// Run fails unless every mode's requests reach the measured service's own
// backends (each reply names its backend), so a rule set that does not
// translate, or translates to the wrong pods, fails here.
func TestQuickRun(t *testing.T) {
	testutil.RequirePrivileged(t)
	for _, b := range []string{"iptables-legacy-restore", "nft", "ip"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	before := weirslNetns(t)
	o := Quick()
	o.Rounds, o.CRR, o.RR, o.UDP = 1, 50, 100, 50
	o.ClientArgv = []string{os.Args[0], "-test.run=^$"}
	o.Progress = t.Output()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scales) != 2 {
		t.Fatalf("got %d scales, want 2", len(res.Scales))
	}
	for _, s := range res.Scales {
		if len(s.Modes) != len(AllModes) {
			t.Errorf("%d services: %d modes measured, want %d", s.Services, len(s.Modes), len(AllModes))
		}
		for _, m := range s.Modes {
			if len(m.Cells) != len(s.Targets) {
				t.Errorf("%d services, %s: %d cells, want %d", s.Services, m.Mode, len(m.Cells), len(s.Targets))
			}
			for _, c := range m.Cells {
				for op, st := range map[string]Stats{"crr": c.CRR, "rr": c.RR, "udp": c.UDP} {
					if st.Errors > 0 || st.N == 0 || st.P50us <= 0 {
						t.Errorf("%d services, %s, %s, %s: %+v", s.Services, m.Mode, c.Target, op, st)
					}
				}
			}
			if m.Mode != ModeDirect && (m.InstallMs <= 0 || m.ChangeMs <= 0 || m.MemoryBytes == 0) {
				t.Errorf("%d services, %s: install/change/memory not measured: %+v", s.Services, m.Mode, m)
			}
		}
	}
	md := Markdown(res)
	for _, want := range []string{"| 1000 | end/remote | nftables |", "kube-proxy", "Against the goals"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if after := weirslNetns(t); after > before {
		t.Errorf("%d weirsl- namespaces before the run, %d after: Run left some behind", before, after)
	}
}

func weirslNetns(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(out), "weirsl-")
}
