package dns

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// SchemaVersion is the version of the Kubernetes DNS schema served in the
// dns-version.<zone> TXT record.
const SchemaVersion = "1.1.0"

// PodMode says which <a-b-c-d>.<ns>.pod.<zone> names are answered.
type PodMode int

const (
	// PodsVerified answers a dashed-IP name only when a pod in that
	// namespace has that IP (CoreDNS "pods verified").
	PodsVerified PodMode = iota
	// PodsInsecure answers any well-formed dashed IP in any namespace, as
	// the specification's deprecated section 2.6 requires (CoreDNS "pods
	// insecure").
	PodsInsecure
	// PodsDisabled answers no pod names.
	PodsDisabled
)

// Config configures a Server. The zero value of every field but Zone has a
// usable default.
type Config struct {
	// Zone is the cluster domain; default "cluster.local".
	Zone string
	// TTL of every record in the zone and the SOA minimum; default 30 s.
	TTL time.Duration
	// Upstreams are the resolvers ("ip:port") for names outside the zone,
	// tried in order. Without upstreams such names get REFUSED.
	Upstreams []string
	// UpstreamTimeout bounds the whole forwarding of one question over all
	// upstreams; default 2 s. When it passes the client gets SERVFAIL.
	UpstreamTimeout time.Duration
	// AllowedNets are the client ranges answered (the cluster's pod and node
	// CIDRs); loopback is always allowed. Other sources get REFUSED.
	AllowedNets []netip.Prefix
	// PodRecords selects how pod dashed-IP names are answered.
	PodRecords PodMode
	// MaxUDPSize caps the UDP reply size a client may ask for with EDNS0;
	// default 4096. Clients without EDNS0 get at most 512 bytes.
	MaxUDPSize int
	// CacheSize bounds the number of cached upstream answers; default 10000.
	CacheSize int
	// MaxCacheTTL caps how long a positive upstream answer is cached;
	// default 1 h. MaxNegativeTTL caps negative answers; default 30 min.
	MaxCacheTTL, MaxNegativeTTL time.Duration
	// MaxForwards bounds the UDP questions being forwarded at once; more
	// get SERVFAIL. Default 1024.
	MaxForwards int
	// Logger receives warnings about skipped objects and upstream failures;
	// default slog.Default().
	Logger *slog.Logger
	// Registerer receives the server's metrics; nil registers nowhere.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() (Config, error) {
	if c.Zone == "" {
		c.Zone = "cluster.local"
	}
	c.Zone = strings.ToLower(mdns.Fqdn(c.Zone))
	if _, ok := mdns.IsDomainName(c.Zone); !ok || c.Zone == "." {
		return c, fmt.Errorf("dns: zone %q is not a domain name: use e.g. cluster.local", c.Zone)
	}
	if c.TTL == 0 {
		c.TTL = 30 * time.Second
	}
	if c.TTL < 0 || c.TTL > 24*time.Hour {
		return c, fmt.Errorf("dns: TTL %s out of range: use 0s..24h", c.TTL)
	}
	for _, u := range c.Upstreams {
		if _, err := netip.ParseAddrPort(u); err != nil {
			return c, fmt.Errorf("dns: upstream %q: want ip:port (e.g. 192.0.2.53:53): %w", u, err)
		}
	}
	setDefault(&c.UpstreamTimeout, 2*time.Second)
	setDefault(&c.MaxCacheTTL, time.Hour)
	setDefault(&c.MaxNegativeTTL, 30*time.Minute)
	setDefault(&c.MaxUDPSize, 4096)
	setDefault(&c.CacheSize, 10000)
	setDefault(&c.MaxForwards, 1024)
	c.MaxUDPSize = min(max(c.MaxUDPSize, mdns.MinMsgSize), mdns.MaxMsgSize)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// ttlSeconds is the record TTL in whole seconds.
func (c Config) ttlSeconds() uint32 { return uint32(c.TTL / time.Second) }
