package nodeapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirnet/weir/node/runtime"
)

// Runtime is what the node API serves from: *runtime.Runtime.
type Runtime interface {
	Logs(ctx context.Context, namespace, pod, container string, opts runtime.LogOptions, w io.Writer) error
	Exec(ctx context.Context, namespace, pod, container string, cmd []string, o runtime.ExecOptions) (int, error)
	Attach(ctx context.Context, namespace, pod, container string, stdout, stderr io.Writer) error
	PortForward(ctx context.Context, namespace, pod string, port int32, stream io.ReadWriteCloser) error
	CheckContainer(ctx context.Context, namespace, pod, container string) error
	CheckPod(namespace, pod string) error
}

// Config configures a Server.
type Config struct {
	// ClientCAPEM is the cluster CA (PEM): clients must present a
	// certificate it signed for client auth (required).
	ClientCAPEM []byte
	// ClientCAs, when set, is asked at each handshake for the pool
	// instead (the agent's trust bundle follows a CA rotation).
	ClientCAs func() *x509.CertPool
	// AllowedUsers are the certificate CNs let in: the control plane's
	// identity (nodestream.KubeletClientUser). Required.
	AllowedUsers []string
	Runtime      Runtime // required
	// LogTimeout bounds a log request without follow; default 1m.
	LogTimeout time.Duration
	// ExecTimeout bounds an exec; default 1h.
	ExecTimeout time.Duration
	Logger      *slog.Logger
}

// Server serves the node API over TLS once it has a certificate.
type Server struct {
	cfg     Config
	allowed map[string]bool
	cert    atomic.Pointer[tls.Certificate]
	http    *http.Server

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New checks cfg; Start serves.
func New(cfg Config) (*Server, error) {
	pool := x509.NewCertPool()
	if cfg.ClientCAs != nil {
		pool = cfg.ClientCAs()
	} else if !pool.AppendCertsFromPEM(cfg.ClientCAPEM) {
		return nil, errors.New("nodeapi: the cluster CA (PEM) is required to verify the control plane's client certificate")
	}
	if len(cfg.AllowedUsers) == 0 {
		return nil, errors.New("nodeapi: no allowed client: name the control plane's certificate CN")
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
	s := &Server{cfg: cfg, allowed: map[string]bool{}}
	for _, u := range cfg.AllowedUsers {
		s.allowed[u] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveLogs)
	for _, m := range []string{"GET", "POST"} { // as the kubelet: WebSocket clients GET, SPDY clients POST
		mux.HandleFunc(m+" /exec/{namespace}/{pod}/{container}", s.serveExec)
		mux.HandleFunc(m+" /attach/{namespace}/{pod}/{container}", s.serveAttach)
		mux.HandleFunc(m+" /portForward/{namespace}/{pod}", s.servePortForward)
	}
	s.http = &http.Server{Handler: s.auth(mux), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.getCertificate,
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}}
	if cfg.ClientCAs != nil {
		s.http.TLSConfig.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.getCertificate,
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: cfg.ClientCAs(), NextProtos: []string{"h2", "http/1.1"}}, nil
		}
	}
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

// auth lets in only the allowed identities: the TLS handshake verified
// the client certificate against the cluster CA; its CN must be one of
// Config.AllowedUsers (a node's own certificate, say, is refused).
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || !s.allowed[r.TLS.VerifiedChains[0][0].Subject.CommonName] {
			who := "no client certificate"
			if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
				who = r.TLS.PeerCertificates[0].Subject.String()
			}
			s.cfg.Logger.Warn("node API: refused a client", "client", who, "remote", r.RemoteAddr, "path", r.URL.Path)
			writeStatus(w, http.StatusForbidden, "Forbidden", "the node API answers the control plane's client certificate only, not "+who)
			return
		}
		next.ServeHTTP(w, r)
	})
}
