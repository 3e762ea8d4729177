package nodestream

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Server serves the NodeStream gRPC service from one control member.
// Every member can run one: all state is in the store.
type Server struct {
	pb.UnimplementedNodeStreamServer
	cfg   Config
	cidrs cidrs
	log   *slog.Logger
	met   *metrics
	grpc  *grpc.Server
	conv  *convCache // what every stream decodes the same way, once
	enc   *encCache  // what every stream sends the same way, encoded once

	mu     sync.Mutex
	closed bool

	// registerMu serializes this member's registrations: concurrent ones
	// would all pick the lowest free pod CIDR and all but one retry.
	registerMu sync.Mutex
}

// New checks cfg and builds a Server; Serve starts it.
func New(cfg Config) (*Server, error) {
	cfg, cluster, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	met, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("nodestream: register metrics: %w", err)
	}
	s := &Server{cfg: cfg, cidrs: cidrs{cluster: cluster, bits: cfg.NodeMaskSize}, log: cfg.Logger.With("component", "nodestream"), met: met, conv: newConvCache(), enc: newEncCache()}
	s.grpc = grpc.NewServer(
		grpc.Creds(credentials.NewTLS(serverTLS(cfg.TLS, s.ca))),
		grpc.UnaryInterceptor(s.unaryAuth),
		grpc.StreamInterceptor(s.streamAuth),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		// Per-connection memory at thousands of mostly idle agents: the
		// write buffer goes back to a pool between writes, and the read
		// buffer is 8 KiB rather than 32 (TLS keeps its own record buffer).
		grpc.SharedWriteBuffer(true),
		grpc.ForceServerCodecV2(newCodec()),
		grpc.ReadBufferSize(8<<10),
	)
	pb.RegisterNodeStreamServer(s.grpc, s)
	return s, nil
}

// ca is the cluster CA in force (Config.CurrentCA, else Config.CA).
func (s *Server) ca() *CA {
	if s.cfg.CurrentCA != nil {
		if ca := s.cfg.CurrentCA(); ca != nil {
			return ca
		}
	}
	return s.cfg.CA
}

// Serve accepts agents on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.CurrentCA != nil {
		tl := &trackedListener{Listener: ln, conns: map[*trackedConn]struct{}{}}
		stop := make(chan struct{})
		defer close(stop)
		go s.watchCA(tl, stop)
		ln = tl
	}
	err := s.grpc.Serve(ln)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Close ends every stream (agents reconnect to another member) and stops
// serving. Idempotent; waits for the handlers to return.
func (s *Server) Close() {
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if !closed {
		s.grpc.Stop()
	}
}
