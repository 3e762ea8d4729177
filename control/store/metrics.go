package store

import (
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// RegisterMetrics registers the member's store metrics with reg.
func (s *Store) RegisterMetrics(reg prometheus.Registerer) error {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "weir", Subsystem: "store", Name: name, Help: help}, f)
	}
	cs := []prometheus.Collector{
		gauge("revision", "Last revision applied on this member.", func() float64 { return float64(s.Revision()) }),
		gauge("history_floor_revision", "Oldest revision a watch or list can start from.", func() float64 {
			_, floor := s.fsm.appliedIndex()
			return float64(floor)
		}),
		gauge("is_leader", "1 when this member is the raft leader.", func() float64 {
			if s.raft.State() == raft.Leader {
				return 1
			}
			return 0
		}),
		gauge("raft_term", "Current raft term.", func() float64 { return float64(s.raft.CurrentTerm()) }),
		gauge("raft_commit_index", "Raft commit index.", func() float64 { return float64(s.raft.CommitIndex()) }),
		gauge("watchers", "Open watches served by this member.", func() float64 { return float64(s.hub.size()) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
