package runtime

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodHosts(t *testing.T) {
	ip := netip.MustParseAddr("10.244.1.7")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "shop"},
		Spec: corev1.PodSpec{Hostname: "web-0", Subdomain: "web",
			HostAliases: []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"db", "db.local"}}, {IP: "fd00::1", Hostnames: []string{"v6"}}}}}
	got := string(podHosts(pod, ip, "cluster.local"))
	want := "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n" +
		"10.244.1.7\tweb-0.web.shop.svc.cluster.local\tweb-0\n" +
		"\n# Entries added by HostAliases.\n10.0.0.1\tdb\tdb.local\nfd00::1\tv6\n"
	if got != want {
		t.Errorf("hosts:\n%s\nwant:\n%s", got, want)
	}
	long := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("a", 62) + "-b"}}
	if h := hostname(long); h != strings.Repeat("a", 62) {
		t.Errorf("hostname of a 64-character name: %q, want it cut to 63 and the trailing '-' dropped", h)
	}
	plain := string(podHosts(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}, ip, "cluster.local"))
	if !strings.HasSuffix(plain, "\n10.244.1.7\tp\n") || strings.Contains(plain, "HostAliases") {
		t.Errorf("hosts without subdomain or aliases:\n%s", plain)
	}
}

func TestHostHostsAliases(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true, HostAliases: []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"db"}}}}}
	got := string(hostHosts(pod, "weirnode-x", netip.MustParseAddr("192.0.2.7")))
	if !strings.Contains(got, "192.0.2.7\tweirnode-x\n") || !strings.HasSuffix(got, "\n# Entries added by HostAliases.\n10.0.0.1\tdb\n") {
		t.Errorf("hostNetwork hosts:\n%s", got)
	}
}

func TestResolvConfDNSConfig(t *testing.T) {
	two, ndots1 := "2", "1"
	cfg := &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.53", "10.96.0.10"}, Searches: []string{"corp.example", "svc.cluster.local"},
		Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &ndots1}, {Name: "edns0"}, {Name: "attempts", Value: &two}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1"}}
	for _, tc := range []struct {
		name   string
		policy corev1.DNSPolicy
		cfg    *corev1.PodDNSConfig
		want   string
	}{
		{"None", corev1.DNSNone, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.example"}},
			"nameserver 1.1.1.1\nsearch a.example\n"},
		{"ClusterFirst merged", corev1.DNSClusterFirst, cfg,
			"nameserver 10.96.0.10\nnameserver 192.0.2.53\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:1 edns0 attempts:2\n"},
		{"ClusterFirst without dnsConfig", "", nil,
			"nameserver 10.96.0.10\nsearch ns1.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"},
		{"four nameservers cut to three", corev1.DNSNone, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}},
			"nameserver 1.1.1.1\nnameserver 1.1.1.2\nnameserver 1.1.1.3\n"},
	} {
		pod.Spec.DNSPolicy, pod.Spec.DNSConfig = tc.policy, tc.cfg
		if got := string(resolvConf(pod, "10.96.0.10", "cluster.local")); got != tc.want {
			t.Errorf("%s: resolv.conf\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
	// Default with a dnsConfig: the host's file, parsed, then merged.
	host := parseResolvConf(mustRead(t, "/etc/resolv.conf"))
	pod.Spec.DNSPolicy, pod.Spec.DNSConfig = corev1.DNSDefault, &corev1.PodDNSConfig{Searches: []string{"extra.example"}}
	got := parseResolvConf(resolvConf(pod, "10.96.0.10", "cluster.local"))
	if want := appendNew(host.searches, "extra.example"); strings.Join(got.searches, " ") != strings.Join(want, " ") ||
		strings.Join(got.nameservers, " ") != strings.Join(host.nameservers[:min(3, len(host.nameservers))], " ") {
		t.Errorf("Default + dnsConfig: %+v, host %+v", got, host)
	}
}

func TestParseResolvConf(t *testing.T) {
	c := parseResolvConf([]byte("# comment\n; also\nnameserver 10.0.0.1\ndomain old.example\nsearch a.example b.example\noptions ndots:2 rotate\nnameserver fd00::53\nbogus\n"))
	if strings.Join(c.nameservers, ",") != "10.0.0.1,fd00::53" || strings.Join(c.searches, ",") != "a.example,b.example" || strings.Join(c.options, ",") != "ndots:2,rotate" {
		t.Errorf("parsed %+v", c)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}
