package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Get reads one object; linearizable unless opts.Stale.
func (s *Store) Get(ctx context.Context, key Key, opts ReadOptions) (Object, error) {
	if err := s.linearize(ctx, opts); err != nil {
		return Object{}, err
	}
	return s.fsm.localGet(key)
}

// List reads a consistent set of objects; linearizable unless opts.Stale.
func (s *Store) List(ctx context.Context, opts ListOptions) (ListResult, error) {
	if err := s.linearize(ctx, opts.ReadOptions); err != nil {
		return ListResult{}, err
	}
	return s.fsm.localList(opts)
}

// Watch implements Interface. Watches are served from this member's state.
func (s *Store) Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	return s.fsm.watch(ctx, s.hub, opts)
}

// Revision is the last revision applied on this member.
func (s *Store) Revision() uint64 {
	applied, _ := s.fsm.appliedIndex()
	return applied
}

// linearize makes this member's state include every write acknowledged
// before the call (the read-index protocol): the leader confirms it still
// leads and names its applied index; this member waits until it has applied
// that far.
func (s *Store) linearize(ctx context.Context, opts ReadOptions) error {
	if opts.Stale {
		return nil
	}
	idx, err := s.readIndex(ctx)
	if err != nil {
		return err
	}
	wait := s.cfg.ApplyTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	return s.fsm.waitApplied(idx, wait)
}

func (s *Store) readIndex(ctx context.Context) (uint64, error) {
	if s.raft.State() == raft.Leader {
		return s.leaderReadIndex()
	}
	addr, _ := s.raft.LeaderWithID()
	if addr == "" {
		return 0, ErrNoLeader
	}
	var resp readIndexResp
	cctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	if err := s.peers.call(cctx, string(addr), "ReadIndex", &readIndexReq{}, &resp); err != nil {
		return 0, fmt.Errorf("%w: read index from %s: %v", ErrNoLeader, addr, err)
	}
	if resp.Index == 0 {
		return 0, ErrNoLeader
	}
	return resp.Index, nil
}

// leaderReadIndex: every acknowledged write is applied on the leader before
// it is acknowledged, so the leader's applied index, taken before a
// successful leadership check, covers them all. In a new term the barrier
// must have completed first (entries of earlier terms applied).
func (s *Store) leaderReadIndex() (uint64, error) {
	term := s.raft.CurrentTerm()
	if s.barrierTerm.Load() != term {
		if err := s.raft.Barrier(s.cfg.ApplyTimeout).Error(); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrNoLeader, err)
		}
		s.barrierTerm.Store(term)
	}
	idx, _ := s.fsm.appliedIndex()
	if err := s.raft.VerifyLeader().Error(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	return idx, nil
}

func (s *Store) handleReadIndex(ctx context.Context, _ *readIndexReq) (*readIndexResp, error) {
	if s.raft.State() != raft.Leader {
		return &readIndexResp{}, nil
	}
	idx, err := s.leaderReadIndex()
	if err != nil {
		return &readIndexResp{}, nil
	}
	return &readIndexResp{Index: idx}, nil
}
