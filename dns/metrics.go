package dns

import (
	"strconv"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors. Label values come from
// small fixed sets so no query can grow the number of series.
type metrics struct {
	queries   *prometheus.CounterVec // type, rcode
	latency   prometheus.Histogram
	cacheHit  prometheus.Counter
	cacheMiss prometheus.Counter
	upstream  *prometheus.CounterVec // upstream, result
	records   prometheus.Gauge
	updates   prometheus.Counter
	full      prometheus.Counter // full Updates
	changed   prometheus.Counter // names rebuilt by Apply
	byCode    map[[2]string]prometheus.Counter
}

var metricTypes = map[uint16]string{
	mdns.TypeA: "A", mdns.TypeAAAA: "AAAA", mdns.TypeSRV: "SRV", mdns.TypePTR: "PTR",
	mdns.TypeTXT: "TXT", mdns.TypeCNAME: "CNAME", mdns.TypeSOA: "SOA", mdns.TypeNS: "NS",
	mdns.TypeMX: "MX", mdns.TypeANY: "ANY", mdns.TypeHTTPS: "HTTPS", mdns.TypeSVCB: "SVCB",
}

func newMetrics(reg prometheus.Registerer, upstreams []string) *metrics {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "dns", Name: "queries_total",
			Help: "DNS queries answered, by question type and response code.",
		}, []string{"type", "rcode"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "weir", Subsystem: "dns", Name: "request_duration_seconds",
			Help:    "Time from receiving a query to having its reply ready.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10),
		}),
		cacheHit: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "dns", Name: "cache_hits_total",
			Help: "Questions outside the zone answered from the cache.",
		}),
		cacheMiss: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "dns", Name: "cache_misses_total",
			Help: "Questions outside the zone not in the cache (forwarded).",
		}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "dns", Name: "upstream_exchanges_total",
			Help: "Exchanges with upstream resolvers, by upstream and result (ok, error).",
		}, []string{"upstream", "result"}),
		records: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "weir", Subsystem: "dns", Name: "records",
			Help: "Resource records in the cluster zone index.",
		}),
		updates: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "dns", Name: "index_updates_total",
			Help: "Snapshots and deltas applied to the zone index.",
		}),
		full: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "dns", Name: "full_updates_total",
			Help: "Full snapshots (Update) that rebuilt the whole zone index.",
		}),
		changed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "weir", Subsystem: "dns", Name: "names_changed_total",
			Help: "Names whose records a delta (Apply) rebuilt: the per-change path.",
		}),
	}
	m.byCode = map[[2]string]prometheus.Counter{}
	for _, t := range append(mapValues(metricTypes), "other") {
		for _, rc := range []int{0, 1, 2, 3, 4, 5} {
			code := rcodeLabel(rc)
			m.byCode[[2]string{t, code}] = m.queries.WithLabelValues(t, code)
		}
	}
	for _, u := range upstreams {
		m.upstream.WithLabelValues(u, "ok")
		m.upstream.WithLabelValues(u, "error")
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.queries, m.latency, m.cacheHit, m.cacheMiss, m.upstream, m.records, m.updates, m.full, m.changed} {
			reg.MustRegister(c)
		}
	}
	return m
}

// query counts one answered query; the common label pairs are looked up
// in a prebuilt map instead of hashing label values.
func (m *metrics) query(qtype uint16, rcode int, seconds float64) {
	t, ok := metricTypes[qtype]
	if !ok {
		t = "other"
	}
	code := rcodeLabel(rcode)
	if c, ok := m.byCode[[2]string{t, code}]; ok {
		c.Inc()
	} else {
		m.queries.WithLabelValues(t, code).Inc()
	}
	m.latency.Observe(seconds)
}

func rcodeLabel(rc int) string {
	if s, ok := mdns.RcodeToString[rc]; ok {
		return s
	}
	if rc >= 0 && rc < 24 {
		return strconv.Itoa(rc)
	}
	return "other"
}

func mapValues(m map[uint16]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
