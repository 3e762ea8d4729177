package nodeapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirnet/weir/node/runtime"
)

// Runtime is what the node API serves from: *runtime.Runtime.
type Runtime interface {
	Logs(ctx context.Context, namespace, pod, container string, opts runtime.LogOptions, w io.Writer) error
	Exec(ctx context.Context, namespace, pod, container string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
}

// Config configures a Server.
type Config struct {
	Token   string  // the cluster's node token (required)
	Runtime Runtime // required
	// LogTimeout bounds a log request without follow; default 1m.
	LogTimeout time.Duration
	// ExecTimeout bounds an exec; default 1h.
	ExecTimeout time.Duration
	Logger      *slog.Logger
}

// Server serves the node API over TLS once it has a certificate.
type Server struct {
	cfg   Config
	token [sha256.Size]byte
	cert  atomic.Pointer[tls.Certificate]
	http  *http.Server

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New checks cfg; Start serves.
func New(cfg Config) (*Server, error) {
	if len(cfg.Token) < 16 {
		return nil, errors.New("nodeapi: the node token (at least 16 characters) is required")
	}
	if cfg.Runtime == nil {
		return nil, errors.New("nodeapi: a runtime is required")
	}
	if cfg.LogTimeout <= 0 {
		cfg.LogTimeout = time.Minute
	}
	if cfg.ExecTimeout <= 0 {
		cfg.ExecTimeout = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, token: sha256.Sum256([]byte(cfg.Token))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveLogs)
	mux.HandleFunc("POST /exec/{namespace}/{pod}/{container}", s.serveExec)
	s.http = &http.Server{Handler: s.auth(mux), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.getCertificate}}
	return s, nil
}

// SetCertificate installs (or replaces) the serving certificate.
func (s *Server) SetCertificate(certPEM, keyPEM []byte) error {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("nodeapi: serving certificate: %w", err)
	}
	s.cert.Store(&c)
	return nil
}

func (s *Server) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := s.cert.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("nodeapi: no serving certificate yet (the agent has not registered)")
}

// Start serves TLS on ln until Close.
func (s *Server) Start(ln net.Listener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("node API stopped", "error", err)
		}
	}()
}

// Handler is the API's handler (without TLS), for embedding and tests.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Close stops serving, ends open streams and waits. Idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() { s.http.Close() })
	s.wg.Wait()
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(got[:], s.token[:]) != 1 {
			writeStatus(w, http.StatusUnauthorized, "Unauthorized", "node token missing or wrong: the node API answers the control plane only")
			return
		}
		next.ServeHTTP(w, r)
	})
}
