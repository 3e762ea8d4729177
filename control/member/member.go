package member

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/weirnet/weir/control/api"
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
}

// Member is a running member.
type Member struct {
	defaultsDone atomic.Bool
	cfg          Config
	log          *slog.Logger
	Store        *store.Store
	API          *api.Server
	http         *http.Server
	ln           net.Listener
	nodes        *nodeStream
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
	m := &Member{cfg: cfg, log: cfg.Logger}
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
	sc.Secret, sc.Token, sc.Logger = []byte(secret), token, m.log
	if m.Store, err = store.Open(ctx, sc); err != nil {
		return err
	}
	if token == "" {
		token = m.Store.Token()
		if err := writeSecret(m.cfg.TokenFile, token); err != nil {
			return fmt.Errorf("write API token: %w", err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := m.Store.RegisterMetrics(reg); err != nil {
		return err
	}
	m.API, err = api.New(api.Config{
		Store: m.Store, Cluster: readiness{m}, Token: token, Logger: m.log, Registerer: reg,
		ServiceCIDR: m.cfg.ServiceCIDR, NodePortRange: m.cfg.NodePortRange, Version: m.cfg.Version,
		NodeCA: m.nodeCA, NodeToken: token,
	})
	if err != nil {
		return err
	}
	if err := m.startNodeStream(token, reg); err != nil {
		return err
	}
	// No WriteTimeout: it would cut long-lived watch streams.
	m.http = &http.Server{Handler: m.API.Handler(), ReadHeaderTimeout: 10 * time.Second}
	m.http.RegisterOnShutdown(m.API.CloseWatches)
	go func() {
		if err := m.http.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("API server stopped", "error", err)
		}
	}()
	m.log.Info("member serving", "name", m.cfg.Name, "api", m.ln.Addr().String(), "peer", m.Store.PeerAddr())
	return nil
}

// APIAddr is the address the API listens on.
func (m *Member) APIAddr() string { return m.ln.Addr().String() }

// EnsureDefaults creates the default namespaces once a leader exists,
// retrying until ctx ends (any member may do it; creates are idempotent).
func (m *Member) EnsureDefaults(ctx context.Context) error {
	for {
		err := m.API.Bootstrap(ctx)
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
