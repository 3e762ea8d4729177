package runtime

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The pod's /etc/hosts and /etc/resolv.conf, written as the kubelet
// writes them: a managed hosts file with the pod's name (and its FQDN
// when it has a subdomain) and spec.hostAliases; a resolv.conf from
// dnsPolicy merged with spec.dnsConfig.

// Limits the kubelet applies to a merged resolv.conf (glibc's: 3
// nameservers; kube's validation: 32 search paths of 2048 characters).
const (
	maxNameservers  = 3
	maxSearches     = 32
	maxSearchLength = 2048
)

// hostname is the pod's host name: spec.hostname, else its name cut to
// 63 characters as the kubelet cuts it; a hostNetwork pod has the node's.
func hostname(pod *corev1.Pod) string {
	if pod.Spec.HostNetwork && pod.Spec.NodeName != "" {
		return pod.Spec.NodeName // the node's, as the host's UTS namespace would give
	}
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname
	}
	name := pod.Name
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-.")
	}
	return name
}

// podHosts is the managed /etc/hosts of a pod with its own network.
func podHosts(pod *corev1.Pod, ip netip.Addr, zone string) []byte {
	var b bytes.Buffer
	b.WriteString("# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\n" +
		"fe00::1\tip6-allnodes\n" +
		"fe00::2\tip6-allrouters\n")
	host := hostname(pod)
	if sub := pod.Spec.Subdomain; sub != "" {
		fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", ip, host, sub, namespaceOf(pod), zone, host)
	} else {
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	return appendHostAliases(b.Bytes(), pod.Spec.HostAliases)
}

// hostHosts is the host's /etc/hosts, with a line for the node's name
// (the hostname of its hostNetwork pods) unless it has one, and the
// pod's hostAliases.
func hostHosts(pod *corev1.Pod, nodeName string, ip netip.Addr) []byte {
	data, err := os.ReadFile("/etc/hosts")
	if err != nil {
		data = []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	if !hostsNames(data, nodeName) {
		data = fmt.Appendf(data, "%s\t%s\n", ip, nodeName)
	}
	return appendHostAliases(data, pod.Spec.HostAliases)
}

// hostsNames says whether a hosts file names name on any line.
func hostsNames(data []byte, name string) bool {
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && !strings.HasPrefix(f[0], "#") && slices.Contains(f[1:], name) {
			return true
		}
	}
	return false
}

func appendHostAliases(data []byte, aliases []corev1.HostAlias) []byte {
	if len(aliases) == 0 {
		return data
	}
	data = append(data, "\n# Entries added by HostAliases.\n"...)
	for _, a := range aliases {
		data = fmt.Appendf(data, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
	}
	return data
}

func namespaceOf(pod *corev1.Pod) string {
	if pod.Namespace == "" {
		return "default"
	}
	return pod.Namespace
}

// dnsConf is a resolv.conf's content.
type dnsConf struct {
	nameservers, searches, options []string
}

// resolvConf follows dnsPolicy as the kubelet does: ClusterFirst (the
// default) points at the cluster DNS with the namespace's search path;
// Default, and ClusterFirst on the host network, use the host's; None
// starts empty. spec.dnsConfig is then merged in: its nameservers and
// searches appended without duplicates, its options overriding those of
// the same name. Without a dnsConfig the host's file is copied as is.
func resolvConf(pod *corev1.Pod, dnsIP, zone string) []byte {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	var c dnsConf
	switch {
	case policy == corev1.DNSNone:
	case dnsIP == "" || policy == corev1.DNSDefault || (policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork):
		host, _ := os.ReadFile("/etc/resolv.conf")
		if pod.Spec.DNSConfig == nil {
			return host
		}
		c = parseResolvConf(host)
	default:
		ns := namespaceOf(pod)
		c = dnsConf{nameservers: []string{dnsIP},
			searches: []string{ns + ".svc." + zone, "svc." + zone, zone}, options: []string{"ndots:5"}}
	}
	if d := pod.Spec.DNSConfig; d != nil {
		c.nameservers = appendNew(c.nameservers, d.Nameservers...)
		c.searches = appendNew(c.searches, d.Searches...)
		for _, o := range d.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			c.options = slices.DeleteFunc(c.options, func(s string) bool { n, _, _ := strings.Cut(s, ":"); return n == o.Name })
			c.options = append(c.options, opt)
		}
	}
	return c.format()
}

// parseResolvConf reads nameserver, search (and domain) and options lines.
func parseResolvConf(data []byte) dnsConf {
	var c dnsConf
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			c.nameservers = append(c.nameservers, f[1])
		case "search", "domain": // the last of them wins, as in the resolver
			c.searches = append([]string(nil), f[1:]...)
		case "options":
			c.options = append(c.options, f[1:]...)
		}
	}
	return c
}

func (c dnsConf) format() []byte {
	var b bytes.Buffer
	ns := c.nameservers
	if len(ns) > maxNameservers {
		ns = ns[:maxNameservers]
	}
	for _, n := range ns {
		fmt.Fprintf(&b, "nameserver %s\n", n)
	}
	var searches []string
	length := 0
	for _, s := range c.searches {
		if len(searches) == maxSearches || length+len(s)+1 > maxSearchLength {
			break
		}
		searches = append(searches, s)
		length += len(s) + 1
	}
	if len(searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(searches, " "))
	}
	if len(c.options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(c.options, " "))
	}
	return b.Bytes()
}

// appendNew appends what list does not hold yet.
func appendNew(list []string, more ...string) []string {
	for _, s := range more {
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}
