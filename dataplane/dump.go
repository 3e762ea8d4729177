package dataplane

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
)

// Dump writes the services in the maps as stable text: one block per
// service group (sorted by name) with its backends and frontends, then any
// entries that belong to no group. Counters and conntrack are not part of
// it, so the text only changes when the service state does.
func (m *Manager) Dump(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("dataplane: Dump after Close")
	}
	return dumpMaps(m.ms, w)
}

// DumpPinned is Dump for a dataplane owned by another process: it reads
// the pinned maps of cfg.Instance.
func DumpPinned(cfg Config, w io.Writer) error {
	ms, closeAll, err := openPinned(cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	return dumpMaps(ms, w)
}

func openPinned(cfg Config) (*lbMapSet, func(), error) {
	if cfg.Instance == "" {
		return nil, nil, errors.New("dataplane: no instance given (--instance)")
	}
	dir := cfg.PinDir()
	var opened []*ebpf.Map
	closeAll := func() {
		for _, mp := range opened {
			mp.Close()
		}
	}
	open := func(name string) (*ebpf.Map, error) {
		mp, err := ebpf.LoadPinnedMap(filepath.Join(dir, name), &ebpf.LoadPinOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("dataplane: open %s/%s: %w (is instance %q loaded? `weir dataplane --instance %s ...`)", dir, name, err, cfg.Instance, cfg.Instance)
		}
		opened = append(opened, mp)
		return mp, nil
	}
	ms := &lbMapSet{}
	for name, dst := range map[string]**ebpf.Map{
		lbMapLbServices: &ms.services, lbMapLbBackends: &ms.backends, lbMapLbRevnat: &ms.revnat,
		lbMapLbNames: &ms.names, lbMapLbMaglev: &ms.maglev,
	} {
		mp, err := open(name)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		*dst = mp
	}
	return ms, closeAll, nil
}

func dumpMaps(ms *lbMapSet, w io.Writer) error {
	st, err := adopt(ms, 1<<24, 0)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	names := make([]string, 0, len(st.groups))
	for n := range st.groups {
		names = append(names, n)
	}
	slices.Sort(names)
	fronts := frontsByOwner(st)
	for _, n := range names {
		dumpGroup(bw, st.groups[n], fronts[st.groups[n].id])
	}
	dumpOrphans(bw, st, fronts[0])
	return bw.Flush()
}

func frontsByOwner(st *state) map[uint32][]*frontend {
	out := map[uint32][]*frontend{}
	for _, fe := range st.fronts {
		out[fe.owner] = append(out[fe.owner], fe)
	}
	for _, fs := range out {
		slices.SortFunc(fs, func(a, b *frontend) int { return cmpFe(a.key, b.key) })
	}
	return out
}

func dumpGroup(w io.Writer, g *group, fronts []*frontend) {
	maglev := "no"
	if g.maglevSum != 0 {
		maglev = "yes"
	}
	fmt.Fprintf(w, "service %s id=%d affinity=%ds maglev=%s\n", g.name, g.id, g.affinity, maglev)
	keys := make([]beKey, 0, len(g.backends))
	for k := range g.backends {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b beKey) int {
		return cmpFe(feKey{addr: a.addr, port: a.port}, feKey{addr: b.addr, port: b.port})
	})
	for _, k := range keys {
		b := g.backends[k]
		term := ""
		if b.terminating {
			term = " terminating"
		}
		fmt.Fprintf(w, "  backend %d %s%s\n", b.id, k, term)
	}
	for _, fe := range fronts {
		dumpFront(w, "  ", fe)
	}
}

func dumpFront(w io.Writer, prefix string, fe *frontend) {
	slots := make([]string, len(fe.slots))
	for i, id := range fe.slots {
		slots[i] = fmt.Sprint(id)
	}
	if fe.master == nil {
		fmt.Fprintf(w, "%sfrontend %s no-master slots=[%s]\n", prefix, fe.key, strings.Join(slots, " "))
		return
	}
	m := fe.master
	fmt.Fprintf(w, "%sfrontend %s %s revnat=%d ready=%d terminating=%d slots=[%s]\n",
		prefix, fe.key, flagNames(m.Flags), fe.revNat, m.Count, m.TermCount, strings.Join(slots, " "))
}

func flagNames(f uint16) string {
	var out []string
	for _, n := range []struct {
		bit  uint16
		name string
	}{{flagClusterIP, "clusterip"}, {flagExternal, "external"}, {flagNodePort, "nodeport"}} {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

func dumpOrphans(w io.Writer, st *state, fronts []*frontend) {
	for _, fe := range fronts {
		dumpFront(w, "orphan ", fe)
	}
	o := st.orphan
	for _, l := range []struct {
		what string
		ids  []uint32
	}{{"backend", o.backends}, {"revnat", o.revnat}, {"name", o.names}, {"maglev", o.maglev}} {
		ids := slices.Clone(l.ids)
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(w, "orphan %s %d\n", l.what, id)
		}
	}
}
