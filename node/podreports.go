package node

import (
	"context"
	"errors"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// podReports holds the latest status of each pod and which ones the
// control plane has not got yet; reports made while the stream is down
// are sent after the reconnect.
type podReports struct {
	mu     sync.Mutex
	latest map[string]podReport // namespace/name
	wake   chan struct{}        // buffered 1: something is unsent
}

type podReport struct {
	namespace, name string
	status          corev1.PodStatus
	sent            bool
}

func newPodReports() *podReports {
	return &podReports{latest: map[string]podReport{}, wake: make(chan struct{}, 1)}
}

// report is the runtime's Report callback: it never blocks.
func (r *podReports) report(namespace, name string, st corev1.PodStatus) {
	key := namespace + "/" + name
	r.mu.Lock()
	if old, ok := r.latest[key]; ok && old.sent && equality.Semantic.DeepEqual(old.status, st) {
		r.mu.Unlock()
		return
	}
	r.latest[key] = podReport{namespace: namespace, name: name, status: st}
	r.mu.Unlock()
	r.poke()
}

func (r *podReports) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// resendAll marks every status unsent (a new stream: the control plane
// may have missed some while the agent was away).
func (r *podReports) resendAll() {
	r.mu.Lock()
	for k, p := range r.latest {
		p.sent = false
		r.latest[k] = p
	}
	r.mu.Unlock()
	r.poke()
}

// prune forgets sent statuses of pods outside keep.
func (r *podReports) prune(keep map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, p := range r.latest {
		if p.sent && !keep[k] {
			delete(r.latest, k)
		}
	}
}

// unsent lists the statuses not yet sent, sorted by key.
func (r *podReports) unsent() []podReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []podReport
	for _, p := range r.latest {
		if !p.sent {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].namespace+"/"+out[i].name < out[j].namespace+"/"+out[j].name
	})
	return out
}

// markSent records that p went out, unless a newer status replaced it.
func (r *podReports) markSent(p podReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := p.namespace + "/" + p.name
	if cur, ok := r.latest[key]; ok && equality.Semantic.DeepEqual(cur.status, p.status) {
		cur.sent = true
		r.latest[key] = cur
	}
}

// sendPodStatuses runs for one stream session: it sends every unsent
// status through send, waking on each new report, until ctx ends or the
// stream fails (the statuses stay unsent for the next session).
func (r *podReports) sendPodStatuses(ctx context.Context, send func(namespace, name string, st corev1.PodStatus) error) error {
	r.resendAll()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		}
		for _, p := range r.unsent() {
			if err := send(p.namespace, p.name, p.status); err != nil {
				if errors.Is(err, ErrNotConnected) {
					return nil
				}
				return err
			}
			r.markSent(p)
		}
	}
}
