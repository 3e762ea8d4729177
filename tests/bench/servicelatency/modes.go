package servicelatency

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/weirnet/weir/dataplane"
	"github.com/weirnet/weir/tests/testutil"
)

// Modes, in the order rounds start with.
const (
	ModeDirect   = "direct"
	ModeWeir     = "weir"
	ModeIptables = "iptables"
	ModeNftables = "nftables"
)

// AllModes is every mode the benchmark knows.
var AllModes = []string{ModeDirect, ModeWeir, ModeIptables, ModeNftables}

// pipe runs argv inside netns ns with text on stdin and times it.
func pipe(ns, text string, argv ...string) (time.Duration, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		msg := out.String()
		if len(msg) > 2000 {
			msg = msg[:2000] + "..."
		}
		return d, fmt.Errorf("%s in %s: %v: %s", strings.Join(argv, " "), ns, err, msg)
	}
	return d, nil
}

// iptablesMode loads kube-proxy's rules into the client pod's namespace.
type iptablesMode struct {
	ns      string
	restore string // iptables-legacy-restore or iptables-nft-restore
}

func (m *iptablesMode) reset() error {
	_, err := pipe(m.ns, IptablesBase(), m.restore)
	return err
}

func (m *iptablesMode) install(svcs []SvcPort) (time.Duration, int, error) {
	if err := m.reset(); err != nil {
		return 0, 0, err
	}
	text := IptablesRules(svcs)
	d, err := pipe(m.ns, text, m.restore, "--noflush")
	return d, len(text), err
}

func (m *iptablesMode) change(svcs []SvcPort, i int, cur SvcPort) (time.Duration, error) {
	old := svcs[i]
	svcs[i] = cur
	return pipe(m.ns, IptablesChange(svcs, old, cur), m.restore, "--noflush")
}

// nftMode loads kube-proxy's nftables table into the client pod's namespace.
type nftMode struct{ ns string }

func (m *nftMode) install(svcs []SvcPort) (time.Duration, int, error) {
	if _, err := pipe(m.ns, "add table ip kube-proxy\ndelete table ip kube-proxy\n", "nft", "-f", "-"); err != nil {
		return 0, 0, err
	}
	text := NftRules(svcs)
	d, err := pipe(m.ns, text, "nft", "-f", "-")
	return d, len(text), err
}

func (m *nftMode) change(svcs []SvcPort, i int, cur SvcPort) (time.Duration, error) {
	old := svcs[i]
	svcs[i] = cur
	return pipe(m.ns, NftChange(old, cur), "nft", "-f", "-")
}

// weirMode is a dataplane instance attached to the weir client's cgroup.
type weirMode struct {
	cgroup string
	log    *slog.Logger
	cfg    dataplane.Config
	m      *dataplane.Manager
}

// weirConfig sizes the maps for the set, as a node would be configured.
func weirConfig(cgroup string, svcs []SvcPort, log *slog.Logger) dataplane.Config {
	eps := 0
	for _, s := range svcs {
		eps += len(s.Endpoints)
	}
	return dataplane.Config{Instance: testutil.UniqueName("weirsl-"), CgroupPath: cgroup, Logger: log,
		MaxServices: max(1024, len(svcs)+len(svcs)/4), MaxBackends: max(4096, eps+eps/4)}
}

// install makes a fresh instance and times the Sync of the whole set.
func (w *weirMode) install(ctx context.Context, svcs []SvcPort) (time.Duration, error) {
	w.close()
	w.cfg = weirConfig(w.cgroup, svcs, w.log)
	m, err := dataplane.New(w.cfg)
	if err != nil {
		return 0, fmt.Errorf("weir dataplane: %w", err)
	}
	w.m = m
	st, err := m.Sync(ctx, Dataplane(svcs))
	if err != nil {
		return 0, fmt.Errorf("weir sync of %d service ports: %w", len(svcs), err)
	}
	return st.Duration, nil
}

func (w *weirMode) change(ctx context.Context, svcs []SvcPort, i int, cur SvcPort) (time.Duration, error) {
	svcs[i] = cur
	start := time.Now()
	_, err := w.m.Upsert(ctx, Dataplane([]SvcPort{cur}).Services...)
	return time.Since(start), err
}

func (w *weirMode) close() error {
	if w.m == nil {
		return nil
	}
	w.m.Close()
	w.m = nil
	return dataplane.Cleanup(w.cfg)
}

// weirSyncOnly times a fresh Sync of svcs into an instance attached to an
// empty cgroup of its own (no traffic) and returns its map memory.
func weirSyncOnly(ctx context.Context, cgroup string, svcs []SvcPort, log *slog.Logger) (time.Duration, uint64, error) {
	cfg := weirConfig(cgroup, svcs, log)
	m, err := dataplane.New(cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("weir dataplane: %w", err)
	}
	defer func() { m.Close(); _ = dataplane.Cleanup(cfg) }()
	st, err := m.Sync(ctx, Dataplane(svcs))
	if err != nil {
		return 0, 0, err
	}
	mem, err := m.Memory()
	return st.Duration, mem, err
}
