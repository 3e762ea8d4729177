package dataplane

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dataplane's Prometheus metrics, registered on
// Config.Registerer (nothing is registered when it is nil).
type metrics struct {
	reg      prometheus.Registerer
	duration prometheus.Histogram
	syncs    *prometheus.CounterVec
	upserts  prometheus.Counter // Kubernetes Services named by Upsert calls
	deletes  prometheus.Counter // ... and by Delete calls
	full     prometheus.Counter // Sync and Resync calls
	repairs  prometheus.Counter // groups a Resync added, updated or removed
	maps     *mapCollector
}

func newMetrics(reg prometheus.Registerer, m *Manager) (*metrics, error) {
	met := &metrics{
		reg: reg,
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "weir_dataplane_sync_duration_seconds",
			Help:    "Time one Sync took to write the desired services into the BPF maps.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "weir_dataplane_syncs_total",
			Help: "Syncs by result (ok, partial: some services skipped, error).",
		}, []string{"result"}),
		upserts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_dataplane_upserts_total",
			Help: "Services (namespace/name) written by Upsert: the per-change path.",
		}),
		deletes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_dataplane_deletes_total",
			Help: "Services (namespace/name), or some of their ports, removed by Delete: the per-change path.",
		}),
		full: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_dataplane_full_syncs_total",
			Help: "Full Syncs (diffing every service), including Resyncs.",
		}),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "weir_dataplane_resync_repairs_total",
			Help: "Service groups (port x family) a Resync had to add, update or remove: drift the deltas missed.",
		}),
		maps: &mapCollector{m: m},
	}
	if reg == nil {
		return met, nil
	}
	for _, c := range []prometheus.Collector{met.duration, met.syncs, met.upserts, met.deletes, met.full, met.repairs, met.maps} {
		if err := reg.Register(c); err != nil {
			met.unregister()
			return nil, errors.Join(errors.New("dataplane: register metrics (one Manager per registry)"), err)
		}
	}
	return met, nil
}

// called counts one call of o; touched is the number of Services an
// Upsert or Delete names.
func (met *metrics) called(o op, touched int) {
	switch o {
	case opSync, opResync:
		met.full.Inc()
	case opUpsert:
		met.upserts.Add(float64(touched))
	case opDelete:
		met.deletes.Add(float64(touched))
	}
}

// observe records one sync; aborted means the kernel refused a write. What
// a Resync changed is drift and counts as repairs.
func (met *metrics) observe(s SyncStats, o op, aborted bool) {
	met.duration.Observe(s.Duration.Seconds())
	if o == opResync {
		met.repairs.Add(float64(s.Added + s.Updated + s.Removed))
	}
	switch {
	case aborted:
		met.syncs.WithLabelValues("error").Inc()
	case s.Failed > 0:
		met.syncs.WithLabelValues("partial").Inc()
	default:
		met.syncs.WithLabelValues("ok").Inc()
	}
}

func (met *metrics) unregister() {
	if met == nil || met.reg == nil {
		return
	}
	for _, c := range []prometheus.Collector{met.duration, met.syncs, met.upserts, met.deletes, met.full, met.repairs, met.maps} {
		met.reg.Unregister(c)
	}
}

var (
	descEntries  = prometheus.NewDesc("weir_dataplane_map_entries", "Entries in a BPF map.", []string{"map"}, nil)
	descCapacity = prometheus.NewDesc("weir_dataplane_map_capacity", "Maximum entries of a BPF map.", []string{"map"}, nil)
	descFlows    = prometheus.NewDesc("weir_dataplane_service_flows_total", "Connections and datagrams translated, and new per-packet flows, per service.", []string{"service"}, nil)
	descPackets  = prometheus.NewDesc("weir_dataplane_service_packets_total", "Packets through the per-packet path, per service.", []string{"service"}, nil)
	descBytes    = prometheus.NewDesc("weir_dataplane_service_bytes_total", "Bytes through the per-packet path, per service.", []string{"service"}, nil)
	descRefused  = prometheus.NewDesc("weir_dataplane_service_no_backend_total", "Connections refused and packets dropped for lack of a backend, per service.", []string{"service"}, nil)
)

// mapCollector reads map fill and per-service counters at scrape time.
type mapCollector struct{ m *Manager }

func (c *mapCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEntries, descCapacity, descFlows, descPackets, descBytes, descRefused} {
		ch <- d
	}
}

func (c *mapCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	st, cp := m.st, m.capacity()
	for _, e := range []struct {
		name      string
		used, max int
	}{
		{lbMapLbServices, st.services, cp.services}, {lbMapLbBackends, st.backends, cp.backends},
		{lbMapLbRevnat, st.revnat, cp.revnat}, {lbMapLbNames, st.names, cp.names}, {lbMapLbMaglev, st.maglev, cp.maglev},
	} {
		ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(e.used), e.name)
		ch <- prometheus.MustNewConstMetric(descCapacity, prometheus.GaugeValue, float64(e.max), e.name)
	}
	per := make([]lbSvcStats, m.ms.cpus)
	for name, g := range st.groups {
		if err := m.ms.stats.Lookup(g.id, per); err != nil {
			continue
		}
		var sum lbSvcStats
		for _, s := range per {
			sum.Flows += s.Flows
			sum.Packets += s.Packets
			sum.Bytes += s.Bytes
			sum.NoBackend += s.NoBackend
		}
		ch <- prometheus.MustNewConstMetric(descFlows, prometheus.CounterValue, float64(sum.Flows), name)
		ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(sum.Packets), name)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(sum.Bytes), name)
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(sum.NoBackend), name)
	}
}
