package dataplane

import (
	"fmt"
	"net/netip"
	"time"
)

// Protocol is the L4 protocol of a service port.
type Protocol uint8

// Protocols the load balancer translates (IANA numbers, as in the kernel).
const (
	TCP Protocol = 6
	UDP Protocol = 17
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return fmt.Sprintf("proto%d", uint8(p))
}

// Desired is the complete set of services the dataplane should serve. Sync
// makes the maps equal to it: services missing from Desired are removed.
type Desired struct {
	Services []Service
}

// Service is one port of a Kubernetes Service: every frontend address of
// that port (ClusterIPs, ExternalIPs, load-balancer IPs, and NodePort on
// each of Config.NodeIPs) balanced over the same backends.
//
// Namespace, Name, PortName and Protocol identify it; two Services with the
// same identity in one Desired are an error.
type Service struct {
	Namespace string
	Name      string
	PortName  string
	Protocol  Protocol

	// Port is the service port of ClusterIPs, ExternalIPs and LoadBalancerIPs.
	Port       uint16
	ClusterIPs []netip.Addr
	// ExternalIPs includes spec.externalIPs and status.loadBalancer IPs.
	ExternalIPs []netip.Addr
	// NodePort, when not zero, adds a frontend NodeIP:NodePort for each of
	// Config.NodeIPs.
	NodePort uint16

	// AffinityTimeout > 0 enables sessionAffinity ClientIP: a client keeps
	// its backend while it connects again within the timeout.
	AffinityTimeout time.Duration

	// Backends of the port. A frontend uses the backends of its own address
	// family. Terminating backends receive new connections only when no
	// ready backend is left.
	Backends []Backend
}

// Backend is one endpoint address and target port.
type Backend struct {
	Addr        netip.Addr
	Port        uint16
	Terminating bool
}

// String is "namespace/name:port/PROTO", the service's identity.
func (s *Service) String() string {
	return fmt.Sprintf("%s/%s:%s/%s", s.Namespace, s.Name, s.PortName, s.Protocol)
}

// SyncStats counts what one Sync did.
type SyncStats struct {
	Services  int // service ports in Desired
	Added     int // service groups (service port x address family) created
	Updated   int // groups whose backends, frontends or affinity changed
	Removed   int // groups deleted
	Unchanged int // groups left as they were
	Failed    int // groups skipped because of an error (see Sync's error)
	Writes    int // map updates and deletes issued
	Duration  time.Duration
}
