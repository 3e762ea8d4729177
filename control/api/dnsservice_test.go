package api_test

import (
	"testing"

	"github.com/weirnet/weir/control/api"
)

// TestBootstrapDNSService: Bootstrap creates kube-system/kube-dns at the
// 10th address of the service CIDR, idempotently, and skips it when the
// range is too small.
func TestBootstrapDNSService(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.ServiceCIDR = "10.97.0.0/16" })
	path := "/api/v1/namespaces/kube-system/services/kube-dns"
	got := e.req("GET", path, nil).must(t, 200).obj(t)
	if ip := str(got, "spec", "clusterIP"); ip != "10.97.0.10" {
		t.Fatalf("kube-dns clusterIP %q, want 10.97.0.10", ip)
	}
	if l := str(got, "metadata", "labels", "k8s-app"); l != "kube-dns" {
		t.Fatalf("k8s-app label %q", l)
	}
	ports, _ := got["spec"].(map[string]any)["ports"].([]any)
	want := map[string]string{"dns": "UDP", "dns-tcp": "TCP"}
	for _, p := range ports {
		pm := p.(map[string]any)
		if want[pm["name"].(string)] != pm["protocol"] || pm["port"] != float64(53) {
			t.Fatalf("port %v", pm)
		}
		delete(want, pm["name"].(string))
	}
	if len(want) != 0 || len(ports) != 2 {
		t.Fatalf("ports %v, missing %v", ports, want)
	}
	if err := e.server.Bootstrap(t.Context()); err != nil {
		t.Fatalf("second Bootstrap: %v", err)
	}
	if ip, ok := e.server.DNSServiceIP(); !ok || ip.String() != "10.97.0.10" {
		t.Fatalf("DNSServiceIP = %v %v", ip, ok)
	}

	small := newEnv(t, func(c *api.Config) { c.ServiceCIDR = "10.100.0.0/29" })
	small.req("GET", path, nil).must(t, 404)
}
