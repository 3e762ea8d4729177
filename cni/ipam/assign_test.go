package ipam

import (
	"errors"
	"net/netip"
	"testing"
)

// mapView is an in-memory View for testing the pure decision functions.
type mapView struct {
	owners map[Key]netip.Addr
	last   netip.Addr
}

func (m *mapView) AddrOf(k Key) (netip.Addr, bool) { a, ok := m.owners[k]; return a, ok }
func (m *mapView) Last() netip.Addr                { return m.last }
func (m *mapView) Taken(a netip.Addr) bool {
	for _, b := range m.owners {
		if a == b {
			return true
		}
	}
	return false
}

// apply records a decision the way the Store does.
func (m *mapView) apply(k Key, d Decision) {
	if !d.Existing {
		m.owners[k] = d.Addr
		m.last = d.Addr
	}
}

func key(id string) Key { return Key{ContainerID: id, IfName: "eth0"} }

func mustRange(t *testing.T, cidr string) Range {
	t.Helper()
	r, err := ParseRange(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAssignRoundRobinWrapAndExhaust(t *testing.T) {
	r := mustRange(t, "10.0.0.0/29") // pods: .2 .. .6
	v := &mapView{owners: map[Key]netip.Addr{}}
	var got []string
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		d, err := Assign(r, v, key(id))
		if err != nil {
			t.Fatalf("assign %s: %v", id, err)
		}
		v.apply(key(id), d)
		got = append(got, d.Addr.String())
	}
	if want := "[10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6]"; fmtList(got) != want {
		t.Fatalf("first five = %v, want %s", got, want)
	}
	if _, err := Assign(r, v, key("f")); !errors.Is(err, ErrExhausted) {
		t.Fatalf("sixth assign: %v, want ErrExhausted", err)
	}
	delete(v.owners, key("b")) // frees .3; the cursor is at .6 so the search wraps
	d, err := Assign(r, v, key("f"))
	if err != nil || d.Addr.String() != "10.0.0.3" || d.Existing {
		t.Fatalf("assign after release = %+v, %v; want new 10.0.0.3", d, err)
	}
}

func TestAssignIsIdempotentPerKey(t *testing.T) {
	r := mustRange(t, "10.244.1.0/24")
	v := &mapView{owners: map[Key]netip.Addr{key("a"): netip.MustParseAddr("10.244.1.9")}}
	d, err := Assign(r, v, key("a"))
	if err != nil || !d.Existing || d.Addr.String() != "10.244.1.9" {
		t.Fatalf("Assign existing = %+v, %v", d, err)
	}
	other := Key{ContainerID: "a", IfName: "eth1"}
	d, err = Assign(r, v, other)
	if err != nil || d.Existing || d.Addr.String() != "10.244.1.2" {
		t.Fatalf("Assign second interface = %+v, %v; want new 10.244.1.2", d, err)
	}
}

func TestNextIgnoresCursorOutsideRange(t *testing.T) {
	r := mustRange(t, "10.244.1.0/24")
	for _, last := range []string{"10.9.9.9", "10.244.1.255", "10.244.1.1", "10.244.1.254"} {
		a, ok := Next(r, netip.MustParseAddr(last), func(netip.Addr) bool { return false })
		if !ok || a.String() != "10.244.1.2" {
			t.Errorf("Next after %s = %s, %v; want 10.244.1.2", last, a, ok)
		}
	}
}

func TestStale(t *testing.T) {
	allocs := []Allocation{
		{netip.MustParseAddr("10.0.0.4"), key("c")},
		{netip.MustParseAddr("10.0.0.2"), key("a")},
		{netip.MustParseAddr("10.0.0.3"), key("b")},
	}
	got := Stale(allocs, []Key{key("b"), key("zz")})
	if len(got) != 2 || got[0].Key != key("a") || got[1].Key != key("c") {
		t.Fatalf("Stale = %v, want a then c", got)
	}
	if got := Stale(allocs, nil); len(got) != 3 {
		t.Fatalf("Stale with no valid attachments kept %d", 3-len(got))
	}
}

func TestParseKey(t *testing.T) {
	k, err := ParseKey("abc/eth0")
	if err != nil || k != (Key{"abc", "eth0"}) {
		t.Fatalf("ParseKey = %v, %v", k, err)
	}
	for _, bad := range []string{"", "abc", "/eth0", "abc/"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
