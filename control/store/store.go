package store

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"google.golang.org/grpc"
)

// Config configures one member.
type Config struct {
	Name      string // unique member name (raft server ID)
	DataDir   string
	PeerAddr  string // listen address for raft + member RPC, HOST:PORT
	Advertise string // peer address other members dial; default: the bound PeerAddr
	APIAddr   string // this member's API address, shown in the member list
	Bootstrap bool   // start a new cluster with this member as its only voter
	Join      []string
	Secret    []byte // shared cluster secret: proves a new member in the join exchange; required
	// SecretFile is where the member keeps Secret; a secret rotation
	// rewrites it and keeps the replaced secret, still accepted, in
	// SecretFile.previous until it finishes (empty: neither is written).
	SecretFile string
	Token      string // API token, handed to joining members
	// TokenFile is where the member keeps Token; a token rotation
	// rewrites it (empty: it is not written).
	TokenFile string
	// Ops are the member operations CallAt runs on the leader, by name.
	Ops map[string]MemberOp
	// CA returns the cluster CA (certificate and key) once the member knows
	// it: the member signs its own peer certificate and those of joining
	// members with it. Nil: the member only uses the certificate it got by
	// joining.
	CA CAFunc
	// CABundle, when set, replaces CA: the CA with its rotation state, so
	// that a CA rotation reaches the peer port (peers' certificates from
	// either CA verify; this member renews its own from the new one).
	CABundle CABundleFunc
	// PeerRevoked, when set, is asked about every member certificate a
	// peer presents (as server or client), with this member as local (read
	// it with Stale reads: it runs before any leader is known); an error
	// refuses the connection.
	PeerRevoked func(ctx context.Context, local Interface, c *x509.Certificate) error
	Logger      *slog.Logger

	SnapshotThreshold uint64        // raft entries between snapshots (default 8192)
	TrailingLogs      uint64        // entries kept after a snapshot (default 10240)
	SnapshotInterval  time.Duration // how often to check the threshold (default 30s)
	HistoryRevisions  uint64        // revisions of watch history kept (default 20000)
	HeartbeatTimeout  time.Duration // default 500ms (loopback/LAN)
	ElectionTimeout   time.Duration // default 500ms
	ApplyTimeout      time.Duration // per raft apply attempt (default 5s)
	// A member is lagging (not ready, reads fail with ErrLagging) when it
	// is more than MaxLagEntries (default 10000) behind the leader's
	// commit index, or has not caught up with it within LagWait (default
	// 500ms).
	MaxLagEntries uint64
	LagWait       time.Duration
}

func (c *Config) setDefaults() error {
	if c.Name == "" || c.DataDir == "" || c.PeerAddr == "" {
		return errors.New("store: Name, DataDir and PeerAddr are required")
	}
	if len(c.Secret) < 16 {
		return errors.New("store: a cluster secret of at least 16 bytes is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(v *uint64, d uint64) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.SnapshotThreshold, 8192)
	def(&c.TrailingLogs, 10240)
	def(&c.HistoryRevisions, 20000)
	defd(&c.SnapshotInterval, 30*time.Second)
	defd(&c.HeartbeatTimeout, 500*time.Millisecond)
	defd(&c.ElectionTimeout, 500*time.Millisecond)
	defd(&c.ApplyTimeout, 5*time.Second)
	def(&c.MaxLagEntries, 10000)
	defd(&c.LagWait, 500*time.Millisecond)
	return nil
}

// Store is one member of the replicated store. It implements Interface.
type Store struct {
	cfg      Config
	log      *slog.Logger
	fsm      *fsm
	hub      *hub
	raft     *raft.Raft
	logStore *raftboltdb.BoltStore
	logWrite *logWriteWatch // the log store as raft writes it, recording failures
	trans    *raft.NetworkTransport
	mux      *peerMux
	grpc     *grpc.Server
	peers    *peerClients
	creds    *peerCreds
	enc      *encryption

	barrierTerm atomic.Uint64 // term in which this leader's barrier completed
	reads       readRounds    // leadership confirmations for read indexes
	token       atomic.Value  // string: API token (from config or from join)

	pendingToken atomic.Value // string: a token rotation's new token, staged
	secret       secretState  // the cluster secret, and the previous one during a rotation

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var errNotLeader = errors.New("store: not the leader")

// ErrLagging: this member cannot serve a current read because it is
// behind the leader (slow, or unable to write its log or state: a full
// disk). The error's text says which; errors.Is(err, ErrNoLeader) holds
// too, so callers that retry on another member keep doing so.
var ErrLagging = errors.New("store: this member is lagging behind the leader")

// lagError is an ErrLagging with its cause in the message.
type lagError struct{ msg string }

func (e *lagError) Error() string { return e.msg }
func (e *lagError) Is(target error) bool {
	return target == ErrLagging || target == ErrNoLeader
}

// logWriteWatch is the raft log store as raft writes it: it records why
// the last write failed (nil once one succeeds), for readiness.
type logWriteWatch struct {
	raft.LogStore
	mu  sync.Mutex
	err error
}

func (l *logWriteWatch) StoreLog(log *raft.Log) error {
	return l.record(l.LogStore.StoreLog(log))
}

func (l *logWriteWatch) StoreLogs(logs []*raft.Log) error {
	return l.record(l.LogStore.StoreLogs(logs))
}

func (l *logWriteWatch) record(err error) error {
	l.mu.Lock()
	if err != nil {
		l.err = fmt.Errorf("raft log write: %w", err)
	} else {
		l.err = nil
	}
	l.mu.Unlock()
	return err
}

func (l *logWriteWatch) failure() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Open starts a member: opens (or creates) its data dir, starts raft and the
// peer service, and bootstraps or joins as configured. Open returns once
// the member is part of a cluster; it does not wait for a leader.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := TightenDataDir(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("tighten data dir: %w", err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger.With("member", cfg.Name), stop: make(chan struct{})}
	s.token.Store(cfg.Token)
	if err := s.loadSecrets(); err != nil {
		return nil, fmt.Errorf("cluster secret: %w", err)
	}
	s.creds = &peerCreds{dir: cfg.DataDir, name: cfg.Name, ca: cfg.CABundle, log: s.log}
	if s.creds.ca == nil {
		s.creds.ca = bundleOf(cfg.CA)
	}
	if f := cfg.PeerRevoked; f != nil {
		s.creds.revoked = func(c *x509.Certificate) error {
			if s.fsm == nil {
				return errors.New("the store is not open yet")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return f(ctx, s, c)
		}
	}
	s.enc = newEncryption(encryptionPath(cfg.DataDir))
	s.peers = &peerClients{creds: s.creds, conns: map[string]*grpc.ClientConn{}}
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) start(ctx context.Context) error {
	var err error
	s.hub = newHub(0, s.decryptEvent)
	if s.fsm, err = openFSM(filepath.Join(s.cfg.DataDir, "state.db"), s.cfg.HistoryRevisions, s.hub); err != nil {
		return err
	}
	s.fsm.stop = s.stop
	applied, _ := s.fsm.appliedIndex()
	s.hub.rev.Store(applied)
	if s.logStore, err = raftboltdb.New(raftboltdb.Options{
		Path: filepath.Join(s.cfg.DataDir, "raft.db"), BoltOptions: boltOptions(64 << 20),
	}); err != nil {
		return fmt.Errorf("open raft log: %w", err)
	}
	fss, err := raft.NewFileSnapshotStoreWithLogger(s.cfg.DataDir, 2, newHCLogger(s.log))
	if err != nil {
		return fmt.Errorf("open snapshot store: %w", err)
	}
	snaps, err := newPrivateSnapshots(s.cfg.DataDir, fss)
	if err != nil {
		return fmt.Errorf("open snapshot store: %w", err)
	}
	if err := s.catchUpFromSnapshot(snaps); err != nil {
		return err
	}
	hasState, err := raft.HasExistingState(s.logStore, s.logStore, snaps)
	if err != nil {
		return err
	}
	if err := s.creds.load(); err != nil {
		return fmt.Errorf("member certificate: %w", err)
	}
	if !s.creds.has() && len(s.cfg.Join) > 0 {
		if err := s.fetchCredentials(ctx); err != nil {
			return err
		}
	}
	encrypted, err := s.enc.load(s.cfg.Bootstrap && !hasState)
	if err != nil {
		return fmt.Errorf("encryption config: %w", err)
	}
	if !encrypted {
		s.log.Warn("no " + EncryptionFile + " in the data dir: Secrets are stored in plaintext (copy the cluster's file here, or run `weir encryption rotate`)")
	}
	if err := s.listen(); err != nil {
		return err
	}
	s.logWrite = &logWriteWatch{LogStore: s.logStore}
	if s.raft, err = raft.NewRaft(s.raftConfig(), s.fsm, s.logWrite, s.logStore, snaps, s.trans); err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	s.grpc = newPeerServer(s)
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = s.grpc.Serve(s.mux.grpc) }()
	go func() { defer s.wg.Done(); s.watchLeadership() }()
	switch {
	case hasState:
		s.log.Info("member restarted from its data dir", "applied", applied)
	case s.cfg.Bootstrap:
		return s.bootstrap()
	case len(s.cfg.Join) > 0:
		return s.join(ctx)
	default:
		return errors.New("store: empty data dir: start with --bootstrap (a new cluster) or --join HOST:PORT (an existing one)")
	}
	return nil
}

func (s *Store) raftConfig() *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(s.cfg.Name)
	c.Logger = newHCLogger(s.log)
	c.NoSnapshotRestoreOnStart = true // the bbolt state machine is durable
	c.BatchApplyCh = true
	c.MaxAppendEntries = 256
	c.SnapshotThreshold = s.cfg.SnapshotThreshold
	c.TrailingLogs = s.cfg.TrailingLogs
	c.SnapshotInterval = s.cfg.SnapshotInterval
	c.HeartbeatTimeout = s.cfg.HeartbeatTimeout
	c.ElectionTimeout = s.cfg.ElectionTimeout
	c.LeaderLeaseTimeout = s.cfg.HeartbeatTimeout / 2
	// Followers learn a new commit index from the next AppendEntries; with
	// no further write that comes CommitTimeout later, and follower reads
	// and watches wait for it. 5 ms (hashicorp's default is 50 ms) keeps
	// follower watch latency low at the price of ~100-200 idle
	// AppendEntries per second per follower (leader ~9% of a core idle
	// with two followers, docs/benchmarks.md "up").
	c.CommitTimeout = 5 * time.Millisecond
	return c
}

func (s *Store) listen() error {
	ln, err := net.Listen("tcp", s.cfg.PeerAddr)
	if err != nil {
		return fmt.Errorf("listen on peer address %s: %w", s.cfg.PeerAddr, err)
	}
	adv := ln.Addr()
	if s.cfg.Advertise != "" {
		if adv, err = net.ResolveTCPAddr("tcp", s.cfg.Advertise); err != nil {
			ln.Close()
			return fmt.Errorf("advertise address %s: %w", s.cfg.Advertise, err)
		}
	}
	s.cfg.Advertise = adv.String()
	s.mux = newPeerMux(ln, s.creds, s.serveJoin, s.log)
	layer := &raftLayer{chanListener: s.mux.raft, creds: s.creds, advertise: adv}
	s.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 4, Timeout: 10 * time.Second, Logger: newHCLogger(s.log),
	})
	return nil
}

// PeerAddr is the address other members reach this one at.
func (s *Store) PeerAddr() string { return s.cfg.Advertise }

// Token is the cluster's API token (given, or received when joining).
func (s *Store) Token() string { return s.token.Load().(string) }

// catchUpFromSnapshot restores the state db from the newest raft snapshot
// when the db is behind it (lost or replaced state.db): raft itself does not
// restore on start because the state machine is durable.
func (s *Store) catchUpFromSnapshot(snaps raft.SnapshotStore) error {
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		return err
	}
	applied, _ := s.fsm.appliedIndex()
	if applied >= list[0].Index {
		return nil
	}
	s.log.Warn("state db is behind the latest snapshot; restoring it", "applied", applied, "snapshot", list[0].Index)
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", list[0].ID, err)
	}
	return s.fsm.Restore(rc)
}

func (s *Store) bootstrap() error {
	conf := raft.Configuration{Servers: []raft.Server{{
		ID: raft.ServerID(s.cfg.Name), Address: raft.ServerAddress(s.cfg.Advertise), Suffrage: raft.Voter,
	}}}
	if err := s.raft.BootstrapCluster(conf).Error(); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	s.log.Info("bootstrapped a new cluster", "peer", s.cfg.Advertise)
	return nil
}

// watchLeadership runs a barrier each time this member becomes leader, so
// that linearizable reads see every entry of earlier terms, and records the
// member's API address in the store.
func (s *Store) watchLeadership() {
	ch := s.raft.LeaderCh()
	for {
		select {
		case <-s.stop:
			return
		case isLeader := <-ch:
			if isLeader {
				s.onLeader()
			}
		}
	}
}

func (s *Store) onLeader() {
	term := s.raft.CurrentTerm()
	if err := s.raft.Barrier(s.cfg.ApplyTimeout).Error(); err != nil {
		s.log.Warn("leader barrier failed", "error", err)
		return
	}
	s.barrierTerm.Store(term)
	s.log.Info("became leader", "term", term)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ApplyTimeout)
	defer cancel()
	if err := s.recordMember(ctx, s.cfg.Name, s.cfg.Advertise, s.cfg.APIAddr); err != nil {
		s.log.Warn("record member", "error", err)
	}
}

// Close leaves the cluster running without this member: a leader first
// hands leadership to another voter, then raft and the peer service stop
// and the files are closed. Close is idempotent and waits.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		if s.raft != nil {
			if s.raft.State() == raft.Leader && s.voters() > 1 {
				if err := s.raft.LeadershipTransfer().Error(); err != nil {
					s.log.Warn("leadership transfer on shutdown failed", "error", err)
				}
			}
			s.closeErr = s.raft.Shutdown().Error()
		}
		if s.grpc != nil {
			s.grpc.Stop()
		}
		if s.trans != nil {
			s.trans.Close()
		}
		if s.mux != nil {
			s.mux.Close()
		}
		s.wg.Wait()
		s.peers.close()
		if s.logStore != nil {
			s.logStore.Close()
		}
		if s.fsm != nil {
			s.fsm.close()
		}
	})
	return s.closeErr
}

func (s *Store) voters() int {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	n := 0
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			n++
		}
	}
	return n
}
