package dns

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Server is the cluster DNS server. Create it with NewServer, feed it with
// Update (and Apply), serve with Serve or ListenAndServe, stop with Close.
// All methods are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	m       *metrics
	cache   *cache
	fwd     *forwarder
	flights flights
	fwdSem  chan struct{}

	idx atomic.Pointer[index] // nil until the first Update

	mu     sync.Mutex // serializes writers of st
	st     *store
	serial uint32

	ctx       context.Context // ends when the server closes
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	lmu       sync.Mutex
	closers   map[closer]struct{}
	closed    bool
}

type closer interface{ Close() error }

// NewServer validates cfg and returns a server that is not ready yet: it
// answers SERVFAIL for the zone until the first Update.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "dns"),
		m:       newMetrics(cfg.Registerer, cfg.Upstreams),
		cache:   newCache(cfg.CacheSize),
		fwdSem:  make(chan struct{}, cfg.MaxForwards),
		ctx:     ctx,
		cancel:  cancel,
		closers: map[closer]struct{}{},
	}
	s.fwd = &forwarder{upstreams: cfg.Upstreams, timeout: cfg.UpstreamTimeout, m: s.m, log: s.log}
	return s, nil
}

// Zone returns the served zone, fully qualified and lowercase.
func (s *Server) Zone() string { return s.cfg.Zone }

// Ready reports whether a first snapshot has been applied.
func (s *Server) Ready() bool { return s.idx.Load() != nil }

// Records returns the number of resource records in the zone index.
func (s *Server) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return 0
	}
	return s.st.records
}

// Close stops every Serve call, closes their sockets and waits for the
// goroutines they started. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.lmu.Lock()
		s.closed = true
		for c := range s.closers {
			_ = c.Close()
		}
		s.lmu.Unlock()
	})
	s.wg.Wait()
	return nil
}

// track registers c to be closed by Close; it reports false (and closes c)
// when the server is already closed.
func (s *Server) track(c closer) bool {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.closed {
		_ = c.Close()
		return false
	}
	s.closers[c] = struct{}{}
	return true
}

func (s *Server) untrack(c closer) {
	s.lmu.Lock()
	delete(s.closers, c)
	s.lmu.Unlock()
}
