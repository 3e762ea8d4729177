package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/store"
)

// Cluster is what the API needs from the replicated store beyond objects:
// membership, snapshots and readiness. *store.Store implements it.
type Cluster interface {
	Members(ctx context.Context) ([]store.Member, error)
	RemoveMember(ctx context.Context, name string) error
	// SaveSnapshot writes a snapshot of the state to w and returns the
	// revision it holds.
	SaveSnapshot(ctx context.Context, w io.Writer) (uint64, error)
	// Ready is nil when a leader is known and this member has caught up.
	Ready() error
}

// Config configures a Server.
type Config struct {
	Store   store.Interface
	Cluster Cluster // optional: without it /readyz is always ready and /weir/v1 answers 404
	// Token is the bearer token every request but /healthz, /livez,
	// /readyz and /version must carry. Required.
	Token string
	// Tokens, when set, are the cluster tokens accepted at each request
	// instead of Token (a token rotation changes them while serving).
	Tokens func() []string
	// ServiceCIDR is the range ClusterIPs are allocated from (default
	// 10.96.0.0/12).
	ServiceCIDR string
	// NodePortRange is "MIN-MAX" (default 30000-32767).
	NodePortRange string
	// MaxBodyBytes bounds request bodies (default 3 MiB).
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Registerer receives the API's metrics; Gatherer serves /metrics.
	// When Registerer is a *prometheus.Registry it serves as the Gatherer
	// too. When both are nil the server uses a registry of its own.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// BookmarkInterval is how often watches that allow bookmarks get one
	// (default 15s). MaxWatchTimeout bounds a watch (default 30m).
	BookmarkInterval time.Duration
	MaxWatchTimeout  time.Duration
	// Version is weir's version, reported by /version.
	Version string
	// NodeCA returns the cluster CA (PEM) that signs the node APIs'
	// serving certificates; pods/log and pods/exec dial nodes trusting
	// only it. Nil: those subresources answer 503.
	NodeCA func(ctx context.Context) ([]byte, error)
	// NodeClientCert is the client certificate presented to node APIs
	// (they answer only the control plane's identity, see
	// nodestream.KubeletClientUser); called per TLS handshake. Nil:
	// pods/log, exec, attach and port-forward answer 503.
	NodeClientCert func() (*tls.Certificate, error)
	// ClientCAs returns the pool that client certificates must chain to
	// (the cluster CA); nil, or a nil pool, trusts none.
	ClientCAs func() *x509.CertPool
	// Revocations, when set, refuses revoked client certificates (and all
	// of them until it is loaded) and serves /weir/v1/revocations.
	Revocations *revoke.Set
	// Authenticators are tried, in order, after a client certificate and
	// the cluster token (ServiceAccount tokens, node bootstrap tokens...).
	Authenticators []authenticator.Request
	// Authorizer decides each authenticated request (system:masters is
	// always allowed); nil allows every authenticated user everything.
	Authorizer authorizer.Authorizer
	// InFlight caps concurrent requests (inflight.go); Audit, when set,
	// writes the audit log (audit.go).
	InFlight InFlightLimits
	Audit    *AuditConfig
	// RuleResolver lists a user's rules (SelfSubjectRulesReview, and the
	// escalation check of RBAC writes); nil: every review lists "*" and
	// RBAC writes are not checked.
	RuleResolver authorizer.RuleResolver
	// ServiceAccountTokens turns on TokenRequest, ServiceAccount
	// admission of pods and the issuer's OpenID documents; nil: off.
	ServiceAccountTokens *ServiceAccountTokens
}

// Defaults for Config fields left zero.
const (
	DefaultServiceCIDR   = "10.96.0.0/12"
	DefaultNodePortRange = "30000-32767"
	DefaultMaxBodyBytes  = 3 << 20
)

func (c *Config) setDefaults() error {
	if c.Store == nil {
		return errors.New("api: Config.Store is required")
	}
	if c.Token == "" {
		return errors.New("api: Config.Token is required: every request must be authenticated")
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = DefaultServiceCIDR
	}
	if c.NodePortRange == "" {
		c.NodePortRange = DefaultNodePortRange
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BookmarkInterval <= 0 {
		c.BookmarkInterval = 15 * time.Second
	}
	if c.MaxWatchTimeout <= 0 {
		c.MaxWatchTimeout = 30 * time.Minute
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	return nil
}

// parseServiceCIDR checks the service range: IPv4 or IPv6, with room for
// at least one address besides the network address.
func parseServiceCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("api: service CIDR %q: %w (want e.g. 10.96.0.0/12)", s, err)
	}
	p = p.Masked()
	if p.Addr().BitLen()-p.Bits() < 2 {
		return netip.Prefix{}, fmt.Errorf("api: service CIDR %q is too small: use a prefix of /30 or shorter", s)
	}
	return p, nil
}

// parsePortRange parses "MIN-MAX" with 1 <= MIN <= MAX <= 65535.
func parsePortRange(s string) (int, int, error) {
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		return 0, 0, fmt.Errorf("api: node port range %q: want MIN-MAX within 1-65535, e.g. 30000-32767", s)
	}
	return a, b, nil
}
