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

// leaderReadIndex implements the read-index protocol on the leader: take
// the commit index, confirm leadership with a heartbeat round, and name the
// last entry at or below that commit index that the state machine applies
// (raft's no-op and barrier entries never reach it). A reader that has
// applied that entry has every write committed before the read began. The
// leader's own applied index would not do: a follower may apply a committed
// entry before the leader's state machine does. In a new term the barrier
// must have completed first, so that the commit index covers earlier terms.
func (s *Store) leaderReadIndex() (uint64, error) {
	term := s.raft.CurrentTerm()
	if s.barrierTerm.Load() != term {
		if err := s.raft.Barrier(s.cfg.ApplyTimeout).Error(); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrNoLeader, err)
		}
		s.barrierTerm.Store(term)
	}
	commit := s.raft.CommitIndex()
	if err := s.raft.VerifyLeader().Error(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	return s.lastStateEntry(commit)
}

// lastStateEntry is the index of the last command or configuration entry at
// or below index. Recent entries are in the log (TrailingLogs keeps them);
// when the scan cannot find one, a barrier brings this leader's state
// machine up to date and its applied index answers.
func (s *Store) lastStateEntry(index uint64) (uint64, error) {
	var l raft.Log
	for i := index; i > 0 && index-i < 64; i-- {
		if err := s.logStore.GetLog(i, &l); err != nil {
			break
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return i, nil
		}
	}
	if err := s.raft.Barrier(s.cfg.ApplyTimeout).Error(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	applied, _ := s.fsm.appliedIndex()
	return applied, nil
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
