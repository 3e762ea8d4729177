package dataplane

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"time"
)

func validate(s *Service) error {
	if s.Namespace == "" || s.Name == "" {
		return fmt.Errorf("dataplane: service %s: namespace and name are required", s)
	}
	if s.Protocol != TCP && s.Protocol != UDP {
		return fmt.Errorf("dataplane: service %s: protocol %s is not supported: use TCP or UDP", s, s.Protocol)
	}
	if s.Port == 0 && (len(s.ClusterIPs) > 0 || len(s.ExternalIPs) > 0) {
		return fmt.Errorf("dataplane: service %s: port 0: set the service port", s)
	}
	for _, a := range append(append([]netip.Addr{}, s.ClusterIPs...), s.ExternalIPs...) {
		if !a.IsValid() {
			return fmt.Errorf("dataplane: service %s: invalid frontend address", s)
		}
	}
	for _, b := range s.Backends {
		if !b.Addr.IsValid() || b.Port == 0 {
			return fmt.Errorf("dataplane: service %s: backend %v: needs an address and a port", s, netip.AddrPortFrom(b.Addr, b.Port))
		}
	}
	if s.AffinityTimeout < 0 {
		return fmt.Errorf("dataplane: service %s: negative affinity timeout", s)
	}
	return nil
}

func affinitySeconds(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	s := (d + time.Second - 1) / time.Second
	if s > 1<<31 {
		s = 1 << 31
	}
	return uint32(s)
}

// groupName is "<namespace>/<name>:<port>/<PROTO>/v4|v6", shortened with a
// hash when it would not fit lb_names (127 bytes).
func groupName(s *Service, v6 bool) string {
	fam := "/v4"
	if v6 {
		fam = "/v6"
	}
	n := s.String() + fam
	if len(n) <= 127 {
		return n
	}
	h := fnv.New64a()
	h.Write([]byte(n))
	return fmt.Sprintf("%s~%016x%s", n[:107], h.Sum64(), fam)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFe(a, b feKey) int {
	if c := a.addr.Compare(b.addr); c != 0 {
		return c
	}
	if a.port != b.port {
		return int(a.port) - int(b.port)
	}
	return int(a.proto) - int(b.proto)
}

// servesFamily: a NodePort opens in the families of the service's
// ClusterIPs (its ipFamilies), or of its backends when it has none.
func servesFamily(s *Service, v6 bool) bool {
	addrs := s.ClusterIPs
	if len(addrs) == 0 {
		for _, b := range s.Backends {
			addrs = append(addrs, b.Addr)
		}
	}
	for _, a := range addrs {
		if a.Unmap().Is6() == v6 {
			return true
		}
	}
	return false
}
