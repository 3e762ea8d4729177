package nodestream

import (
	"context"
	"errors"
	"fmt"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// runKind streams one kind: resume from the agent's version when the
// store still has the history, else a snapshot; then deltas from the
// store watch until the stream ends. A watcher that fell behind is
// reopened from the last revision sent.
func (ses *session) runKind(ctx context.Context, k kindSpec, from uint64) error {
	for {
		w, next, err := ses.open(ctx, k, from)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		from, err = ses.pump(ctx, k, w, next)
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, store.ErrWatcherTooSlow) {
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

// pump sends the watcher's events as delta messages, all that is queued
// at once (up to maxBatch events a message). It returns the last revision
// handled and why it ended. The watcher is a Batches one: no goroutine
// and no channel buffer of its own per stream.
func (ses *session) pump(ctx context.Context, k kindSpec, w *store.Watcher, rev uint64) (uint64, error) {
	for {
		select {
		case <-w.Ready():
		case <-ctx.Done():
			return rev, ctx.Err()
		}
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
		if werr != nil {
			return rev, werr
		}
	}
}
