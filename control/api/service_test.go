package api_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"github.com/weirnet/weir/control/api"
)

const svcPath = "/api/v1/namespaces/default/services"

func svcJSON(name, typ, clusterIP string, nodePort int) string {
	np := ""
	if nodePort != 0 {
		np = fmt.Sprintf(`,"nodePort":%d`, nodePort)
	}
	ip := ""
	if clusterIP != "" {
		ip = fmt.Sprintf(`"clusterIP":%q,`, clusterIP)
	}
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q},"spec":{%s"type":%q,"selector":{"app":"x"},"ports":[{"port":80%s}]}}`, name, ip, typ, np)
}

// TestClusterIPUniqueUnderConcurrency creates 50 services at once and
// checks that every one got a distinct address from the range.
func TestClusterIPUniqueUnderConcurrency(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.ServiceCIDR = "10.100.0.0/24" })
	const n = 50
	ips := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := e.req("POST", svcPath, svcJSON(fmt.Sprintf("svc-%d", i), "ClusterIP", "", 0))
			if r.code != http.StatusCreated {
				t.Errorf("create svc-%d: HTTP %d %s", i, r.code, r.body)
				return
			}
			ips[i] = str(r.obj(t), "spec", "clusterIP")
		})
	}
	wg.Wait()
	cidr := netip.MustParsePrefix("10.100.0.0/24")
	seen := map[string]int{}
	for i, ip := range ips {
		addr, err := netip.ParseAddr(ip)
		if err != nil || !cidr.Contains(addr) || addr == cidr.Addr() || ip == "10.100.0.255" {
			t.Errorf("svc-%d got clusterIP %q, outside the usable range", i, ip)
		}
		if j, dup := seen[ip]; dup {
			t.Errorf("svc-%d and svc-%d share clusterIP %s", j, i, ip)
		}
		seen[ip] = i
	}
	// every allocation is visible to reads as the service's
	for i := range n {
		got := e.req("GET", fmt.Sprintf("%s/svc-%d", svcPath, i), nil).must(t, 200).obj(t)
		if str(got, "spec", "clusterIP") != ips[i] {
			t.Errorf("svc-%d stored clusterIP %s, created with %s", i, str(got, "spec", "clusterIP"), ips[i])
		}
	}
}

func TestClusterIPRequestedImmutableReleased(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.ServiceCIDR = "10.100.0.0/29" }) // 6 usable
	got := e.req("POST", svcPath, svcJSON("a", "ClusterIP", "10.100.0.5", 0)).must(t, 201).obj(t)
	if str(got, "spec", "clusterIP") != "10.100.0.5" || fmt.Sprint(path(got, "spec", "clusterIPs")) != "[10.100.0.5]" {
		t.Fatalf("requested IP not honoured: %v", got["spec"])
	}
	st := e.req("POST", svcPath, svcJSON("b", "ClusterIP", "10.100.0.5", 0)).status(t, 422, "Invalid")
	if st.Details.Causes[0].Field != "spec.clusterIP" {
		t.Errorf("causes %v", st.Details.Causes)
	}
	for _, bad := range []string{"10.101.0.1", "10.100.0.0", "10.100.0.7", "not-an-ip"} {
		e.req("POST", svcPath, svcJSON("c", "ClusterIP", bad, 0)).status(t, 422, "Invalid")
	}
	// clusterIP is immutable; an update that omits it keeps it
	upd := svcJSON("a", "ClusterIP", "10.100.0.6", 0)
	e.req("PUT", svcPath+"/a", upd).status(t, 422, "Invalid")
	kept := e.req("PUT", svcPath+"/a", svcJSON("a", "ClusterIP", "", 0)).must(t, 200).obj(t)
	if str(kept, "spec", "clusterIP") != "10.100.0.5" {
		t.Fatalf("update without clusterIP lost it: %v", kept["spec"])
	}
	// headless services take no address
	hl := e.req("POST", svcPath, svcJSON("headless", "ClusterIP", "None", 0)).must(t, 201).obj(t)
	if str(hl, "spec", "clusterIP") != "None" {
		t.Fatalf("headless clusterIP %v", str(hl, "spec", "clusterIP"))
	}
	// fill the range (4 left: default/kubernetes holds the first address),
	// then it is exhausted
	for i := range 4 {
		e.req("POST", svcPath, svcJSON(fmt.Sprintf("fill-%d", i), "ClusterIP", "", 0)).must(t, 201)
	}
	st = e.req("POST", svcPath, svcJSON("one-too-many", "ClusterIP", "", 0)).status(t, 422, "Invalid")
	t.Logf("exhausted: %s", st.Message)
	// deleting releases the address for reuse
	e.req("DELETE", svcPath+"/a", nil).must(t, 200)
	e.req("POST", svcPath, svcJSON("b", "ClusterIP", "10.100.0.5", 0)).must(t, 201)
}

func TestNodePortAllocation(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.NodePortRange = "30000-30002" })
	a := e.req("POST", svcPath, svcJSON("np-a", "NodePort", "", 0)).must(t, 201).obj(t)
	portA, _ := path(a, "spec", "ports").([]any)[0].(map[string]any)["nodePort"].(float64)
	if portA < 30000 || portA > 30002 {
		t.Fatalf("nodePort %v outside 30000-30002", portA)
	}
	free := 30000
	for free == int(portA) {
		free++
	}
	e.req("POST", svcPath, svcJSON("np-b", "NodePort", "", int(portA))).status(t, 422, "Invalid")
	e.req("POST", svcPath, svcJSON("np-c", "NodePort", "", 31000)).status(t, 422, "Invalid")
	e.req("POST", svcPath, svcJSON("np-d", "ClusterIP", "", free)).status(t, 422, "Invalid")
	e.req("POST", svcPath, svcJSON("np-b", "NodePort", "", free)).must(t, 201)
	e.req("POST", svcPath, svcJSON("np-e", "LoadBalancer", "", 0)).must(t, 201)
	e.req("POST", svcPath, svcJSON("np-f", "NodePort", "", 0)).status(t, 422, "Invalid") // range full
	// an update keeps the port; switching to ClusterIP releases it
	again := e.req("PUT", svcPath+"/np-a", svcJSON("np-a", "NodePort", "", 0)).must(t, 200).obj(t)
	if p := path(again, "spec", "ports").([]any)[0].(map[string]any)["nodePort"]; p != portA {
		t.Fatalf("update changed nodePort %v -> %v", portA, p)
	}
	e.req("PUT", svcPath+"/np-a", svcJSON("np-a", "ClusterIP", "", 0)).must(t, 200)
	e.req("POST", svcPath, svcJSON("np-f", "NodePort", "", int(portA))).must(t, 201)
	// deleting releases too
	e.req("DELETE", svcPath+"/np-b", nil).must(t, 200)
	e.req("POST", svcPath, svcJSON("np-g", "NodePort", "", free)).must(t, 201)
}

func TestServiceValidation(t *testing.T) {
	e := newEnv(t)
	bad := []string{
		`{"metadata":{"name":"noports"},"spec":{"selector":{"a":"b"}}}`,
		`{"metadata":{"name":"p0"},"spec":{"ports":[{"port":0}]}}`,
		`{"metadata":{"name":"proto"},"spec":{"ports":[{"port":80,"protocol":"ICMP"}]}}`,
		`{"metadata":{"name":"unnamed"},"spec":{"ports":[{"port":80},{"port":81}]}}`,
		`{"metadata":{"name":"Upper"},"spec":{"ports":[{"port":80}]}}`,
		`{"metadata":{"name":"dot.name"},"spec":{"ports":[{"port":80}]}}`,
		`{"metadata":{"name":"sel"},"spec":{"selector":{"a b":"c"},"ports":[{"port":80}]}}`,
		`{"metadata":{"name":"typ"},"spec":{"type":"Magic","ports":[{"port":80}]}}`,
		`{"metadata":{"name":"ext"},"spec":{"type":"ExternalName"}}`,
		`{"metadata":{"name":"tp"},"spec":{"ports":[{"port":80,"targetPort":"Not_A_Name"}]}}`,
	}
	for _, b := range bad {
		e.req("POST", svcPath, b).status(t, 422, "Invalid")
	}
	ext := e.req("POST", svcPath, `{"metadata":{"name":"ext"},"spec":{"type":"ExternalName","externalName":"example.com"}}`).must(t, 201).obj(t)
	if str(ext, "spec", "clusterIP") != "" {
		t.Errorf("ExternalName service got clusterIP %s", str(ext, "spec", "clusterIP"))
	}
}
