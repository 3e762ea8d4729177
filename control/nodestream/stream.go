package nodestream

import (
	"context"
	"errors"
	"fmt"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// kindStream is one kind of a session: its watcher (ended by cancel)
// and the last revision handled.
type kindStream struct {
	k      kindSpec
	w      *store.Watcher
	cancel context.CancelFunc
	rev    uint64
}

// runKinds streams every kind on one goroutine: per kind, resume from
// the agent's version when the store still has the history, else a
// snapshot; then deltas from the kind's Batches watcher until the stream
// ends. A watcher that fell behind is reopened from the last revision
// sent.
func (ses *session) runKinds(ctx context.Context, versions map[int32]uint64) error {
	var ks [len(kindSpecs)]kindStream
	defer func() {
		for _, s := range ks {
			if s.cancel != nil {
				s.cancel()
			}
		}
	}()
	reopen := func(s *kindStream, from uint64) error {
		if s.cancel != nil {
			s.cancel()
		}
		wctx, cancel := context.WithCancel(ctx)
		w, next, err := ses.open(wctx, s.k, from)
		if err != nil {
			cancel()
			return err
		}
		s.w, s.cancel, s.rev = w, cancel, next
		return nil
	}
	for i, k := range kindSpecs {
		ks[i].k = k
		if err := reopen(&ks[i], versions[int32(k.kind)]); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	for {
		var i int
		select { // one case per kind: kindSpecs has 4 (see kinds.go)
		case <-ctx.Done():
			return nil
		case <-ks[0].w.Ready():
			i = 0
		case <-ks[1].w.Ready():
			i = 1
		case <-ks[2].w.Ready():
			i = 2
		case <-ks[3].w.Ready():
			i = 3
		}
		s := &ks[i]
		var err error
		s.rev, err = ses.drain(s.k, s.w, s.rev)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, store.ErrWatcherTooSlow) {
			err = reopen(s, s.rev)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// open returns a watcher delivering what the agent lacks. An agent at
// version V has applied everything up to V; the watch restarts at V-1 so
// that a revision whose events spanned two messages is replayed whole
// (replays are idempotent upserts and deletes, in order).
func (ses *session) open(ctx context.Context, k kindSpec, from uint64) (*store.Watcher, uint64, error) {
	if from >= 2 {
		w, err := ses.s.cfg.Store.Watch(ctx, store.WatchOptions{Resource: k.resource, Revision: from - 1, Batches: true})
		if err == nil {
			ses.s.met.resumes.WithLabelValues(k.kind.String()).Inc()
			return w, from, nil
		}
		if !errors.Is(err, store.ErrGone) {
			return nil, 0, fmt.Errorf("watch %s from %d: %w", k.resource, from-1, err)
		}
	}
	for i := 0; i < 5; i++ {
		lr, err := ses.s.cfg.Store.List(ctx, store.ListOptions{Resource: k.resource, ReadOptions: store.ReadOptions{Stale: true}})
		if err != nil {
			return nil, 0, fmt.Errorf("list %s: %w", k.resource, err)
		}
		w, err := ses.s.cfg.Store.Watch(ctx, store.WatchOptions{Resource: k.resource, Revision: lr.Revision, Batches: true})
		if errors.Is(err, store.ErrGone) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("watch %s from %d: %w", k.resource, lr.Revision, err)
		}
		if err := ses.send(k.kind, lr.Revision, true, k.snapshot(ses.s.conv, ses.node, lr.Objects)); err != nil {
			return nil, 0, err
		}
		ses.s.met.snapshots.WithLabelValues(k.kind.String()).Inc()
		return w, lr.Revision, nil
	}
	return nil, 0, fmt.Errorf("list %s: %w", k.resource, store.ErrGone)
}

// drain sends what the watcher has queued as delta messages (up to
// maxBatch events a message). It returns the last revision handled and
// the watcher's error, if it ended.
func (ses *session) drain(k kindSpec, w *store.Watcher, rev uint64) (uint64, error) {
	batch, werr := w.Take()
	for len(batch) > 0 {
		chunk := batch[:min(len(batch), maxBatch)]
		batch = batch[len(chunk):]
		var res []*pb.Resource
		for _, ev := range chunk {
			if r := k.delta(ses.s.conv, ses.node, ev); r != nil {
				res = append(res, r)
			}
		}
		rev = chunk[len(chunk)-1].Revision
		if len(res) == 0 {
			continue
		}
		if err := ses.send(k.kind, rev, false, res); err != nil {
			return rev, err
		}
	}
	return rev, werr
}
