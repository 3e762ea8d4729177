package node

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Pod egress masquerade: traffic from this node's pods to anything that
// is not a pod or Service address leaves with the node's address (SNAT on
// the underlay link), so that pods reach the underlay and beyond without
// the outside knowing routes to pod CIDRs. It is one nftables table in
// the node's network namespace, replaced atomically on every change.

// masqTable is the nftables table (family ip) the agent owns.
const masqTable = "weir_masq"

// masqRules is the nft script that (re)defines the table: pods of
// podCIDR going out of link to a destination outside nonMasq are
// masqueraded.
func masqRules(podCIDR netip.Prefix, link string, nonMasq []netip.Prefix) string {
	var b strings.Builder
	fmt.Fprintf(&b, "add table ip %s\ndelete table ip %s\ntable ip %s {\n", masqTable, masqTable, masqTable)
	b.WriteString("\tset nonmasq {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n")
	if len(nonMasq) > 0 {
		elems := make([]string, len(nonMasq))
		for i, p := range nonMasq {
			elems[i] = p.Masked().String()
		}
		fmt.Fprintf(&b, "\t\telements = { %s }\n", strings.Join(elems, ", "))
	}
	b.WriteString("\t}\n")
	// TCP only from a SYN: a NodePort reply from a local backend reaches
	// this hook as the first packet conntrack sees of its connection (the
	// dataplane's tc path delivered the request past netfilter) and must
	// leave unchanged for the dataplane to reverse its translation.
	fmt.Fprintf(&b, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"+
		"\t\tip saddr != %s return\n\t\tip daddr @nonmasq return\n\t\toifname != %q return\n"+
		"\t\tmeta l4proto tcp tcp flags & (syn | ack) != syn return\n\t\tmasquerade\n\t}\n}\n", podCIDR.Masked(), link)
	return b.String()
}

// nonMasqueradeCIDRs are the destinations reached with the pod's own
// address: the cluster CIDR (other pods), the Service CIDR, and extra.
func nonMasqueradeCIDRs(clusterCIDR, serviceCIDR string, extra []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range append([]string{clusterCIDR, serviceCIDR}, extra...) {
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("non-masquerade CIDR %q: %w", s, err)
		}
		if p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

// applyMasquerade installs the table in the namespace nsName ("" = the
// agent's own) with nft.
func applyMasquerade(ctx context.Context, nsName, script string) error {
	args := []string{"nft", "-f", "-"}
	if nsName != "" {
		args = append([]string{"ip", "netns", "exec", nsName}, args...)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pod egress masquerade (nft table ip %s): %v: %s", masqTable, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// setUpMasquerade programs the masquerade for the pod CIDR the control
// plane assigned (at every registration).
func (a *Agent) setUpMasquerade(ctx context.Context, clusterCIDR, podCIDR string) error {
	if !a.cfg.Masquerade {
		return nil
	}
	a.masqMu.Lock()
	defer a.masqMu.Unlock()
	a.masqCluster, a.masqPodCIDR = clusterCIDR, podCIDR
	return a.applyMasqueradeLocked(ctx)
}

// applyMasqueradeLocked installs the table for the current inputs when it
// changed. The cluster's nodes (this one and those the routes lead to)
// are reached with the pod's address, as Cilium does: they route pod
// CIDRs, and their DNS servers and node APIs tell pods apart by it.
func (a *Agent) applyMasqueradeLocked(ctx context.Context) error {
	if a.masqPodCIDR == "" {
		return nil // not registered yet: the session applies it
	}
	pod, err := netip.ParsePrefix(a.masqPodCIDR)
	if err != nil {
		return fmt.Errorf("pod CIDR %q: %w", a.masqPodCIDR, err)
	}
	nonMasq, err := nonMasqueradeCIDRs(a.masqCluster, a.cfg.ServiceCIDR, a.cfg.NonMasqueradeCIDRs)
	if err != nil {
		return err
	}
	for _, s := range a.cfg.Addresses {
		if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
			nonMasq = append(nonMasq, netip.PrefixFrom(ip, 32))
		}
	}
	for _, ip := range a.masqNodes {
		nonMasq = append(nonMasq, netip.PrefixFrom(ip, 32))
	}
	script := masqRules(pod, a.cfg.UnderlayIface, nonMasq)
	if script == a.masqApplied {
		return nil
	}
	if err := applyMasquerade(ctx, a.cfg.Netns, script); err != nil {
		return fmt.Errorf("%w (install nftables, or run the agent with --masquerade=false)", err)
	}
	a.masqApplied = script
	a.log.Info("pod egress masqueraded", "podCIDR", pod, "link", a.cfg.UnderlayIface, "except", nonMasq)
	return nil
}

// masqRoutes keeps the masquerade's list of node addresses equal to the
// nodes the routes lead to.
type masqRoutes struct {
	Routes
	a *Agent
}

func (m masqRoutes) Reconcile(want []Route) error {
	if err := m.Routes.Reconcile(want); err != nil {
		return err
	}
	var nodes []netip.Addr
	for _, r := range want {
		if r.NodeIP.Is4() {
			nodes = append(nodes, r.NodeIP)
		}
	}
	slices.SortFunc(nodes, netip.Addr.Compare)
	nodes = slices.Compact(nodes)
	m.a.masqMu.Lock()
	defer m.a.masqMu.Unlock()
	m.a.masqNodes = nodes
	return m.a.applyMasqueradeLocked(context.Background())
}
