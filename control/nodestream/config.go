package nodestream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/store"
)

// Config configures a Server. Zero values get the defaults below.
type Config struct {
	// Store is the cluster state (required).
	Store store.Interface
	// TLS is the server's TLS config (required): see CA.ServerTLS. The
	// server adds the client-certificate verification against CA.
	TLS *tls.Config
	// CA is the cluster CA (required): node client certificates must chain
	// to it, it signs them (RequestCertificate) and the node APIs' serving
	// certificates (Register with api_port).
	CA *CA
	// CurrentCA, when set, returns the CA in force now (it replaces CA
	// once it returns one): a CA rotation reaches the client-certificate
	// pool, the signer and the bundle handed to nodes without a restart.
	CurrentCA func() *CA
	// ClientCertTTL is the lifetime of a node client certificate; default
	// one year (agents renew after two thirds of it).
	ClientCertTTL time.Duration
	// Members lists the control members, whose addresses never go into a
	// node's serving certificate; nil: only loopback addresses are
	// withheld.
	Members func(ctx context.Context) ([]store.Member, error)
	// ClusterCIDR is the IPv4 range pod CIDRs are cut from; default 10.244.0.0/16.
	ClusterCIDR string
	// NodeMaskSize is the prefix length of each node's pod CIDR; default 24.
	NodeMaskSize int
	// LeaseRenew is the shortest interval between two renewals of a
	// node's Lease in kube-node-lease on its heartbeats (heartbeats in
	// between only count), as kubelet's node lease renew interval;
	// default 10s. The Node's status is written only when it changes.
	LeaseRenew time.Duration
	// LeaseDuration is the Lease's leaseDurationSeconds; default 40s.
	LeaseDuration time.Duration
	// Revoked, when set, is asked about every node certificate before an
	// RPC: an error (revoked, or the list not loaded) is Unauthenticated.
	Revoked func(*x509.Certificate) error
	// RevocationsAdded, when set with Revoked, fires when revocations are
	// added: open Watch streams check their certificate again and end
	// (Unauthenticated) when it is revoked.
	RevocationsAdded func() <-chan struct{}
	// Logger defaults to slog.Default(); Registerer, when set, receives the metrics.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() (Config, netip.Prefix, error) {
	if c.Store == nil {
		return c, netip.Prefix{}, errors.New("nodestream: a store is required")
	}
	if c.CA == nil || c.CA.cert == nil {
		return c, netip.Prefix{}, errors.New("nodestream: the cluster CA is required (see EnsureCA)")
	}
	if c.ClientCertTTL <= 0 {
		c.ClientCertTTL = 365 * 24 * time.Hour
	}
	if c.TLS == nil {
		return c, netip.Prefix{}, errors.New("nodestream: a TLS config is required (see CA.ServerTLS)")
	}
	if c.ClusterCIDR == "" {
		c.ClusterCIDR = "10.244.0.0/16"
	}
	if c.NodeMaskSize == 0 {
		c.NodeMaskSize = 24
	}
	if c.LeaseRenew <= 0 {
		c.LeaseRenew = 10 * time.Second
	}
	if c.LeaseDuration < time.Second {
		c.LeaseDuration = 40 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	p, err := netip.ParsePrefix(c.ClusterCIDR)
	if err != nil || !p.Addr().Is4() || p != p.Masked() {
		return c, p, fmt.Errorf("nodestream: cluster CIDR %q: use an IPv4 network without host bits, e.g. 10.244.0.0/16", c.ClusterCIDR)
	}
	if c.NodeMaskSize < p.Bits() || c.NodeMaskSize > 30 || c.NodeMaskSize-p.Bits() > 16 {
		return c, p, fmt.Errorf("nodestream: node mask size /%d does not fit cluster CIDR %s: use /%d to /30 with at most 65536 node CIDRs", c.NodeMaskSize, p, p.Bits())
	}
	return c, p, nil
}

// LeaseTimes are the lease renew interval and duration for a node
// monitor grace period (0: the default 40 s): kubelet's 10 s and 40 s,
// with the renewal at most a quarter of the grace period so that a
// shorter grace (tests, small clusters) still sees several renewals.
func LeaseTimes(grace time.Duration) (renew, duration time.Duration) {
	if grace <= 0 {
		grace = 40 * time.Second
	}
	return min(10*time.Second, grace/4), max(grace, time.Second)
}
