package dataplane

import (
	"fmt"
	"testing"
)

func TestMaglevTable(t *testing.T) {
	const m = 1021
	var a, b []maglevBackend
	for i := 0; i < 7; i++ {
		name := fmt.Sprintf("10.0.0.%d:80", i)
		a = append(a, maglevBackend{name: name, id: uint32(i + 1)})
		b = append(b, maglevBackend{name: name, id: uint32(100 + i)})
	}
	ta, tb := maglevTable(a, m), maglevTable(b, m)
	count := map[uint32]int{}
	for i := range ta {
		if tb[i]-100 != ta[i]-1 {
			t.Fatalf("entry %d: %d vs %d: the same backends must give the same table whatever their ids", i, ta[i], tb[i])
		}
		count[ta[i]]++
	}
	for id, n := range count {
		if n < m/7 || n > m/7+1 {
			t.Errorf("backend %d owns %d entries, want %d or %d", id, n, m/7, m/7+1)
		}
	}
	if maglevTable(nil, m) != nil {
		t.Error("empty backend set: want no table")
	}
	if tableSum(ta) == tableSum(maglevTable(a[:6], m)) {
		t.Error("different tables have the same checksum")
	}
}

func TestBuildWant(t *testing.T) {
	d := goldenInitial()
	dup := d.Services[0]
	dup.Name = "copy" // same frontends as shop/web
	bad := Service{Namespace: "x", Name: "bad", Protocol: Protocol(132), Port: 1}
	d.Services = append(d.Services, dup, bad)
	want, failed, errs := buildWant(&d, addrs("192.168.50.1", "fd00:50::1"))
	if len(errs) != 2 || !failed["shop/web:http/TCP/v4"] || !failed["x/bad:/proto132/v4"] {
		t.Fatalf("errors %v, failed %v: want the later of two services sharing a frontend and the SCTP one refused", errs, failed)
	}
	names := map[string]*wantGroup{}
	for _, g := range want {
		names[g.name] = g
	}
	if names["shop/copy:http/TCP/v4"] == nil || names["kube-system/dns:dns/UDP/v6"] == nil {
		t.Errorf("groups %v: want shop/copy (first by name) and the IPv6 half of dns", keysOf(names))
	}
	if names["shop/copy:http/TCP/v6"] != nil {
		t.Error("an IPv4-only service got an IPv6 NodePort group")
	}
	web := names["shop/copy:http/TCP/v4"]
	if web.ready != 2 || !web.backends[2].terminating || len(web.fronts) != 3 {
		t.Errorf("copy: ready %d, backends %v, fronts %v; want 2 ready then the terminating one, 3 frontends", web.ready, web.backends, web.fronts)
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
