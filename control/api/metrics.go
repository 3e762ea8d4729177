package api

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	watches  prometheus.Gauge
	rejected prometheus.Counter // requests over the in-flight limits (429)
	encoded  prometheus.Counter // watch event frames encoded (shared by watchers)
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_api_requests_total",
			Help: "API requests by verb, resource and HTTP code.",
		}, []string{"verb", "resource", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "weir_api_request_duration_seconds",
			Help:    "API request latency by verb and resource (watches: their whole duration).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 60},
		}, []string{"verb", "resource"}),
		watches: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "weir_api_watches",
			Help: "Watch streams currently open.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_api_inflight_rejected_total",
			Help: "Requests answered 429 because the in-flight limits were reached.",
		}),
		encoded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_api_watch_frames_encoded_total",
			Help: "Watch event frames encoded; each is shared by every watcher of the same event, format and shape.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.watches, m.rejected, m.encoded} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// reqLabels are filled in by handlers once they know the verb and resource.
type reqLabels struct{ verb, resource string }

type labelsKey struct{}

func setLabels(ctx context.Context, verb, resource string) {
	if l, ok := ctx.Value(labelsKey{}).(*reqLabels); ok {
		l.verb, l.resource = verb, resource
	}
}

// statusRecorder remembers the response code and keeps Flush working for
// watches.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to exec, attach and port-forward upgrades.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.code == 0 {
		r.code = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

func (s *Server) metricsMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		l := &reqLabels{verb: "other", resource: ""}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), labelsKey{}, l)))
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		took := time.Since(start)
		s.metrics.requests.WithLabelValues(l.verb, l.resource, strconv.Itoa(code)).Inc()
		s.metrics.latency.WithLabelValues(l.verb, l.resource).Observe(took.Seconds())
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "verb", l.verb, "resource", l.resource, "code", code, "took", took)
	})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	setLabels(r.Context(), "get", "metrics")
	promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
