package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store"
)

// Server serves the API. Create it with New; it holds no goroutines of its
// own (watches live as long as their requests).
type Server struct {
	cfg     Config
	store   store.Interface
	log     *slog.Logger
	reg     *registry
	codecs  *codecs
	alloc   *allocator
	metrics *metrics
	gather  prometheus.Gatherer
	handler http.Handler
	nodes   nodeClient // to node APIs, for pods/log and pods/exec
	openapi *openAPIServer
	fields  *fieldManagers

	inflight *inflight   // in-flight request limits
	audit    *auditor    // audit log, nil when off
	frames   *frameCache // encoded watch events shared by watchers

	// watches ends (CloseWatches) to end every open watch: each watch's
	// context is cancelled with it.
	watches     context.Context
	stopWatches context.CancelFunc
}

// New checks cfg, registers the metrics and builds the handler.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	alloc, err := newAllocator(cfg.ServiceCIDR, cfg.NodePortRange)
	if err != nil {
		return nil, err
	}
	regr, gather := cfg.Registerer, cfg.Gatherer
	if regr == nil && gather == nil {
		r := prometheus.NewRegistry()
		regr, gather = r, r
	}
	if g, ok := regr.(prometheus.Gatherer); ok && gather == nil {
		gather = g
	}
	m, err := newMetrics(regr)
	if err != nil {
		return nil, fmt.Errorf("api: register metrics: %w", err)
	}
	reg, err := newRegistry()
	if err != nil {
		return nil, err
	}
	fields, err := newFieldManagers(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: cfg.Store, log: cfg.Logger, reg: reg, codecs: newCodecs(), alloc: alloc, metrics: m, gather: gather,
		fields: fields, inflight: newInflight(cfg.InFlight), frames: newFrameCache()}
	s.watches, s.stopWatches = context.WithCancel(context.Background())
	if s.audit, err = newAuditor(cfg.Audit, cfg.Logger); err != nil {
		return nil, err
	}
	if s.openapi, err = newOpenAPIServer(); err != nil {
		return nil, err
	}
	// kube-apiserver's order: authentication, audit, impersonation,
	// in-flight limits, authorization.
	s.handler = s.metricsMiddleware(s.recoverMiddleware(s.authMiddleware(s.auditMiddleware(s.impersonateMiddleware(
		s.inflightMiddleware(s.authzMiddleware(http.HandlerFunc(s.route))))))))
	return s, nil
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// CloseWatches ends every open watch stream and makes new ones end at
// once, so that a shutting-down member does not hold its clients: they
// watch again, from their last resourceVersion, on another member. Use it
// with http.Server.RegisterOnShutdown. Idempotent.
func (s *Server) CloseWatches() {
	s.stopWatches()
}

// route dispatches by path prefix.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/livez" || p == "/readyz" || p == "/version":
		s.serveHealth(w, r)
	case p == "/metrics":
		s.serveMetrics(w, r)
	case strings.HasPrefix(p, "/debug/pprof/"):
		s.serveProfiling(w, r)
	case p == "/openapi/v2" || p == "/openapi/v3" || strings.HasPrefix(p, "/openapi/v3/"):
		s.serveOpenAPI(w, r)
	case p == satoken.DiscoveryPath || p == satoken.JWKSPath:
		s.serveOIDC(w, r)
	case strings.HasPrefix(p, "/weir/v1/"):
		s.serveWeir(w, r)
	case isReviewPath(p):
		s.serveReview(w, r)
	case p == "/api" || p == "/apis" || p == "/api/" || p == "/apis/":
		s.serveDiscovery(w, r)
	case strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/"):
		s.serveAPI(w, r)
	default:
		s.writeError(w, r, errNoRoute())
	}
}

// serveAPI handles discovery of one group or version, and resources.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	rq, err := s.parseRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rq.discovery {
		s.serveDiscovery(w, r)
		return
	}
	setLabels(r.Context(), rq.verb, rq.res.Resource())
	s.dispatch(w, r, rq)
}
