package ipam

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRangeBounds(t *testing.T) {
	tests := []struct {
		cidr                                 string
		network, gateway, first, last, bcast string
		size                                 uint32
	}{
		{"10.244.1.0/24", "10.244.1.0", "10.244.1.1", "10.244.1.2", "10.244.1.254", "10.244.1.255", 253},
		{"10.244.0.0/16", "10.244.0.0", "10.244.0.1", "10.244.0.2", "10.244.255.254", "10.244.255.255", 65533},
		{"192.168.7.8/30", "192.168.7.8", "192.168.7.9", "192.168.7.10", "192.168.7.10", "192.168.7.11", 1},
		{"10.0.0.0/29", "10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.6", "10.0.0.7", 5},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.cidr)
		if err != nil {
			t.Fatalf("ParseRange(%s): %v", tt.cidr, err)
		}
		got := []string{r.Network().String(), r.Gateway().String(), r.First().String(), r.Last().String(), r.Broadcast().String()}
		want := []string{tt.network, tt.gateway, tt.first, tt.last, tt.bcast}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: bounds %v, want %v", tt.cidr, got, want)
		}
		if r.Size() != tt.size {
			t.Errorf("%s: size %d, want %d", tt.cidr, r.Size(), tt.size)
		}
		for _, reserved := range []netip.Addr{r.Network(), r.Gateway(), r.Broadcast()} {
			if r.Contains(reserved) {
				t.Errorf("%s: Contains(%s) = true for a reserved address", tt.cidr, reserved)
			}
		}
		if !r.Contains(r.First()) || !r.Contains(r.Last()) {
			t.Errorf("%s: first or last not contained", tt.cidr)
		}
	}
}

func TestRangeRejects(t *testing.T) {
	tests := map[string]string{
		"10.244.1.0/31": "too small",
		"10.244.1.7/32": "too small",
		"10.244.1.7/30": "host bits",
		"10.244.1.5/24": "use 10.244.1.0/24",
		"fd00::/64":     "IPv6",
		"10.244.1.0":    "parse pod CIDR",
		"":              "parse pod CIDR",
	}
	for in, want := range tests {
		_, err := ParseRange(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRange(%q) = %v, want error containing %q", in, err, want)
		}
	}
}
