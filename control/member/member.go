package member

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/apiserver/pkg/authorization/union"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/nodeauth"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store"
)

// Config configures a member. Store tuning fields left zero take the
// store's defaults.
type Config struct {
	Name       string
	DataDir    string
	Listen     string // API listen address (default 127.0.0.1:6443)
	Peer       string // peer listen address (default 127.0.0.1:2380)
	Advertise  string // peer address others dial (default: Peer as bound)
	Bootstrap  bool
	Join       []string
	SecretFile string // default <DataDir>/cluster-secret
	TokenFile  string // default <DataDir>/token
	Version    string
	Logger     *slog.Logger

	ServiceCIDR, NodePortRange string
	NodeListen                 string       // node-stream listen address; "" = no node stream
	ClusterCIDR                string       // pod CIDR range of the node stream (default 10.244.0.0/16)
	Store                      store.Config // tuning only: SnapshotThreshold, TrailingLogs, ...
	// NodeGracePeriod and PodEvictionTimeout tune the node lifecycle
	// controller (0: its defaults, 40s and 300s).
	NodeGracePeriod, PodEvictionTimeout time.Duration
	// EventTTL is how long Events live after they were last seen (0: 1h).
	EventTTL time.Duration
	// LocalPathDir is where the local-path provisioner puts volumes on
	// the nodes ("": /var/lib/weir/storage).
	LocalPathDir string
	// Serve hardens the API server and turns on its audit log (serve.go).
	Serve ServerOptions
	// ServiceAccountIssuer is the iss (and default audience) of
	// ServiceAccount tokens; ServiceAccountMaxTokenExpiration caps their
	// lifetime (serviceaccounts.go).
	ServiceAccountIssuer             string
	ServiceAccountMaxTokenExpiration time.Duration
}

// Member is a running member.
type Member struct {
	defaultsDone atomic.Bool
	cfg          Config
	log          *slog.Logger
	Store        *store.Store
	API          *api.Server
	saKeys       atomic.Pointer[satoken.Keys] // ServiceAccount signing keys (serviceaccounts.go)
	http         *http.Server
	ln           net.Listener
	nodes        *nodeStream
	tls          *apiTLS
	stopCA       context.CancelFunc
	authz        *authorization
	caDone       chan struct{}
	audit        io.Closer // the audit log file, when on

	kubeletMu   sync.Mutex // guards kubeletCert, kubeletCA (nodeClientCert)
	kubeletCert *tls.Certificate
	kubeletCA   *nodestream.CA

	nodeAuthz    *nodeauth.Authorizer // startNodeAuth
	stopNodeAuth func()

	revoked     *revoke.Set // startRevocation
	stopRevoked func()
}

// Start opens the store and starts serving the API. It returns once the
// member has joined or bootstrapped and the API listens.
func Start(ctx context.Context, cfg Config) (*Member, error) {
	if cfg.Name == "" || cfg.DataDir == "" {
		return nil, errors.New("member: --name and --data-dir are required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:6443"
	}
	if cfg.Peer == "" {
		cfg.Peer = "127.0.0.1:2380"
	}
	if cfg.SecretFile == "" {
		cfg.SecretFile = filepath.Join(cfg.DataDir, "cluster-secret")
	}
	if cfg.TokenFile == "" {
		cfg.TokenFile = filepath.Join(cfg.DataDir, "token")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Member{cfg: cfg, log: cfg.Logger, tls: newAPITLS(nil)}
	if err := m.start(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Member) start(ctx context.Context) error {
	// A new cluster creates its secret: by --bootstrap, or from a data dir
	// that `weir snapshot restore` made (raft state, no secret yet).
	_, statErr := os.Stat(filepath.Join(m.cfg.DataDir, "raft.db"))
	secret, err := readOrCreateSecret(m.cfg.SecretFile, m.cfg.Bootstrap || (statErr == nil && len(m.cfg.Join) == 0))
	if err != nil {
		return fmt.Errorf("cluster secret: %w", err)
	}
	// A joining member gets the cluster's API token from the cluster.
	token, err := readOrCreateSecret(m.cfg.TokenFile, len(m.cfg.Join) == 0)
	if err != nil && len(m.cfg.Join) == 0 {
		return fmt.Errorf("API token: %w", err)
	}
	if m.ln, err = net.Listen("tcp", m.cfg.Listen); err != nil {
		return fmt.Errorf("listen on API address %s: %w", m.cfg.Listen, err)
	}
	sc := m.cfg.Store
	sc.Name, sc.DataDir, sc.PeerAddr, sc.Advertise = m.cfg.Name, m.cfg.DataDir, m.cfg.Peer, m.cfg.Advertise
	sc.APIAddr, sc.Bootstrap, sc.Join = m.ln.Addr().String(), m.cfg.Bootstrap, m.cfg.Join
	sc.Secret, sc.Token, sc.Logger, sc.CABundle = []byte(secret), token, m.log, m.peerCA
	sc.TokenFile, sc.Ops = m.cfg.TokenFile, m.memberOps()
	sc.SecretFile, sc.PeerRevoked = m.cfg.SecretFile, revoke.CheckLocal
	if m.Store, err = store.Open(ctx, sc); err != nil {
		return err
	}
	if err := m.startTLS(ctx, statErr != nil && (m.cfg.Bootstrap || len(m.cfg.Join) > 0)); err != nil {
		return err
	}
	if err := m.Store.EnsurePeerCert(); err != nil { // for commands run on this host
		m.log.Warn("issue this member's peer certificate", "error", err)
	}
	if token == "" {
		token = m.Store.Token()
		if err := writeSecret(m.cfg.TokenFile, token); err != nil {
			return fmt.Errorf("write API token: %w", err)
		}
	}
	m.startNodeAuth()
	m.startRevocation()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := m.Store.RegisterMetrics(reg); err != nil {
		return err
	}
	audit, auditFile, err := m.cfg.Serve.auditConfig()
	if err != nil {
		return err
	}
	m.audit = auditFile
	writes := &writeTracker{Store: m.Store}
	authz, rules, err := m.startAuthorization(writes, union.NamedAuthorizer{AuthorizerName: "Node", Authorizer: m.nodeAuthz})
	if err != nil {
		return err
	}
	apiCfg := api.Config{
		InFlight: m.cfg.Serve.InFlight, Audit: audit,
		Store: writes, Cluster: readiness{m}, Token: token, Tokens: m.Store.Tokens, Logger: m.log, Registerer: reg,
		ServiceCIDR: m.cfg.ServiceCIDR, NodePortRange: m.cfg.NodePortRange, Version: m.cfg.Version,
		NodeCA: m.nodeCA, NodeClientCert: m.nodeClientCert, ClientCAs: m.tls.clientCAs,
		Authorizer: authz, RuleResolver: rules, Revocations: m.revoked,
	}
	if err := m.serviceAccounts(&apiCfg); err != nil {
		return err
	}
	m.API, err = api.New(apiCfg)
	if err != nil {
		return err
	}
	if err := m.startNodeStream(reg); err != nil {
		return err
	}
	lim := newConnLimiter(m.ln, m.cfg.Serve)
	m.http = newHTTPServer(m.API.Handler(), m.tls.serverConfig(), m.cfg.Serve, lim, m.log)
	m.http.RegisterOnShutdown(m.API.CloseWatches)
	srv := m.http // Close may clear m.http before this goroutine runs
	go func() {
		if err := srv.ServeTLS(lim, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("API server stopped", "error", err)
		}
	}()
	m.log.Info("member serving", "name", m.cfg.Name, "api", m.ln.Addr().String(), "peer", m.Store.PeerAddr())
	return nil
}

// APIAddr is the address the API listens on.
func (m *Member) APIAddr() string { return m.ln.Addr().String() }

// EnsureDefaults creates the default namespaces and reconciles the
// bootstrap RBAC policy once a leader exists, retrying until ctx ends (any
// member may do it; both are idempotent). The member is ready only after.
func (m *Member) EnsureDefaults(ctx context.Context) error {
	for {
		err := m.API.Bootstrap(ctx)
		if err == nil {
			err = m.bootstrapRBAC(ctx)
		}
		if err == nil {
			m.defaultsDone.Store(true)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create default namespaces: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// readiness is the store as the API's Cluster, ready only once the default
// namespaces exist (so that a client that waited for /readyz finds them).
type readiness struct{ m *Member }

func (r readiness) Members(ctx context.Context) ([]store.Member, error) {
	return r.m.Store.Members(ctx)
}
func (r readiness) RemoveMember(ctx context.Context, name string) error {
	return r.m.Store.RemoveMember(ctx, name)
}
func (r readiness) SaveSnapshot(ctx context.Context, w io.Writer) (uint64, error) {
	return r.m.Store.SaveSnapshot(ctx, w)
}
func (r readiness) Ready() error {
	if err := r.m.Store.Ready(); err != nil {
		return err
	}
	if !r.m.defaultsDone.Load() {
		return errors.New("default namespaces not created yet")
	}
	return nil
}

// Close stops serving the API (draining requests for up to 5 s) and closes
// the store, handing leadership over first. Idempotent.
func (m *Member) Close() error {
	if m.nodes != nil {
		m.nodes.close()
		m.nodes = nil
	}
	if m.stopNodeAuth != nil {
		m.stopNodeAuth()
		m.stopNodeAuth = nil
	}
	if m.stopRevoked != nil {
		m.stopRevoked()
		m.stopRevoked = nil
	}
	if m.stopCA != nil {
		m.stopCA()
		<-m.caDone
		m.stopCA = nil
	}
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := m.http.Shutdown(ctx); err != nil {
			m.http.Close() // watches still open after the grace period
		}
		cancel()
		m.http = nil
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.audit != nil {
		m.audit.Close()
		m.audit = nil
	}
	m.stopAuthorization()
	if m.Store != nil {
		err := m.Store.Close()
		m.Store = nil
		return err
	}
	return nil
}

// Run starts a member and serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	m, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	defer m.startLeaderLoops(ctx)() // scheduler and controllers, on the leader only; stopped before Close
	go func() {
		if err := m.EnsureDefaults(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("default namespaces", "error", err)
		}
	}()
	<-ctx.Done()
	m.log.Info("shutting down", "name", cfg.Name)
	return nil
}
