package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
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
	uid             types.UID
	status          corev1.PodStatus
	removed         bool // the pod's containers and network are gone
	sent            bool
}

func newPodReports() *podReports {
	return &podReports{latest: map[string]podReport{}, wake: make(chan struct{}, 1)}
}

// same reports whether p and q say the same about the same pod.
func (p podReport) same(q podReport) bool {
	return p.uid == q.uid && p.removed == q.removed && equality.Semantic.DeepEqual(p.status, q.status)
}

// report is the runtime's Report callback: it never blocks. A removed
// report stays (and is resent after a reconnect) until the pod leaves
// the node's state.
func (r *podReports) report(rp runtime.PodReport) {
	p := podReport{namespace: rp.Namespace, name: rp.Name, uid: rp.UID, status: rp.Status, removed: rp.Removed}
	key := p.namespace + "/" + p.name
	r.mu.Lock()
	if old, ok := r.latest[key]; ok && (old.sent && old.same(p) || old.removed && old.uid == p.uid && !p.removed) {
		r.mu.Unlock()
		return // nothing new, or a straggler after the pod's last word
	}
	r.latest[key] = p
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
	if cur, ok := r.latest[key]; ok && cur.same(p) {
		cur.sent = true
		r.latest[key] = cur
	}
}

// sendPodStatuses runs for one stream session: it sends every unsent
// report through send, waking on each new report, until ctx ends or the
// stream fails (the reports stay unsent for the next session).
func (r *podReports) sendPodStatuses(ctx context.Context, send func(p podReport) error) error {
	r.resendAll()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		}
		for _, p := range r.unsent() {
			if err := send(p); err != nil {
				if errors.Is(err, ErrNotConnected) {
					return nil
				}
				return err
			}
			r.markSent(p)
		}
	}
}

// sendPodReport sends one report on the current stream: the status, the
// pod's UID (the control plane applies it only to that pod) and whether
// the pod is removed.
func (a *Agent) sendPodReport(p podReport) error {
	data, err := json.Marshal(p.status)
	if err != nil {
		return fmt.Errorf("encode status of pod %s/%s: %w", p.namespace, p.name, err)
	}
	a.mu.Lock()
	st := a.stream
	a.mu.Unlock()
	if st == nil {
		return ErrNotConnected
	}
	return st.send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodStatus{PodStatus: &pb.PodStatus{
		Namespace: p.namespace, Name: p.name, StatusJson: data, Uid: string(p.uid), Removed: p.removed}}})
}
