package nodestream

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	connected     prometheus.Gauge
	sent          *prometheus.CounterVec
	snapshots     *prometheus.CounterVec
	resumes       *prometheus.CounterVec
	acks          *prometheus.CounterVec
	nacks         *prometheus.CounterVec
	heartbeats    prometheus.Counter
	nodeWrites    prometheus.Counter
	leaseRenewals prometheus.Counter
	podStatuses   prometheus.Counter
	authFailures  prometheus.Counter
	refused       *prometheus.CounterVec
	certs         prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	kind := []string{"kind"}
	m := &metrics{
		connected:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "weir_nodestream_connected_agents", Help: "Agents with an open Watch stream on this member."}),
		sent:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_nodestream_messages_sent_total", Help: "Messages sent to agents."}, kind),
		snapshots:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_nodestream_snapshots_total", Help: "Full snapshots sent (new agents and resyncs)."}, kind),
		resumes:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_nodestream_resumes_total", Help: "Streams resumed from the agent's version."}, kind),
		acks:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_nodestream_acks_total", Help: "Versions acknowledged by agents."}, kind),
		nacks:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_nodestream_nacks_total", Help: "Versions rejected by agents."}, kind),
		heartbeats:    prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_nodestream_heartbeats_total", Help: "Heartbeats received."}),
		nodeWrites:    prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_nodestream_node_status_writes_total", Help: "Node status writes (Ready after a lapse, NACK conditions): on change only."}),
		leaseRenewals: prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_nodestream_lease_renewals_total", Help: "Node Lease renewals written (at most one per node per lease renew interval)."}),
		podStatuses:   prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_nodestream_pod_status_reports_total", Help: "Pod status reports written."}),
		authFailures:  prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_nodestream_auth_failures_total", Help: "RPCs refused for a missing or wrong node credential."}),
		refused:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_nodestream_refused_total", Help: "Requests refused because a node acted for another node."}, []string{"what"}),
		certs:         prometheus.NewCounter(prometheus.CounterOpts{Name: "weir_nodestream_node_certificates_issued_total", Help: "Node client certificates signed (bootstrap and renewal)."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connected, m.sent, m.snapshots, m.resumes, m.acks, m.nacks, m.heartbeats, m.nodeWrites, m.leaseRenewals, m.podStatuses, m.authFailures, m.refused, m.certs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
