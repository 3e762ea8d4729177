package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Get reads one object; linearizable unless opts.Stale.
func (s *Store) Get(ctx context.Context, key Key, opts ReadOptions) (Object, error) {
	if err := s.linearize(ctx, opts); err != nil {
		return Object{}, err
	}
	o, err := s.fsm.localGet(key)
	if err != nil {
		return Object{}, err
	}
	return s.decrypt(o)
}

// List reads a consistent set of objects; linearizable unless opts.Stale.
func (s *Store) List(ctx context.Context, opts ListOptions) (ListResult, error) {
	if err := s.linearize(ctx, opts.ReadOptions); err != nil {
		return ListResult{}, err
	}
	if applied, _ := s.fsm.appliedIndex(); opts.Revision > applied {
		// A list at a revision this member has not reached: wait a
		// little (bounded by ctx), then ErrFutureRevision.
		wait := futureRevisionWait
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			wait = time.Until(d)
		}
		if s.fsm.waitApplied(opts.Revision, wait) != nil {
			return ListResult{}, ErrFutureRevision
		}
	}
	res, err := s.fsm.localList(opts)
	if err == nil {
		err = s.decryptAll(res.Objects)
	}
	if err != nil {
		return ListResult{}, err
	}
	return res, nil
}

// Watch implements Interface. Watches are served from this member's state.
func (s *Store) Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	return s.fsm.watch(ctx, s.hub, opts)
}

// StaleWarning is why a stale read from this member may be out of date,
// from local knowledge only (cheap enough for every stale read): it
// cannot write its log or state, it has not heard from a leader for a
// while, or it is far behind the commit index it knows. "" when none.
func (s *Store) StaleWarning() string {
	applied, _ := s.fsm.appliedIndex()
	if err := s.applyFailure(); err != nil {
		return fmt.Sprintf("member %s is lagging (applied index %d): cannot apply: %v", s.cfg.Name, applied, err)
	}
	if s.raft.State() == raft.Leader {
		return ""
	}
	if s.Leader() == "" {
		return fmt.Sprintf("member %s has no leader: the data may be out of date (applied index %d)", s.cfg.Name, applied)
	}
	if last := s.raft.LastContact(); !last.IsZero() && time.Since(last) > 4*s.cfg.ElectionTimeout {
		return fmt.Sprintf("member %s has not heard from the leader for %v: the data may be out of date", s.cfg.Name, time.Since(last).Round(time.Millisecond))
	}
	if c := s.raft.CommitIndex(); c > applied && c-applied > s.cfg.MaxLagEntries {
		return fmt.Sprintf("member %s is lagging: applied index %d, commit index %d", s.cfg.Name, applied, c)
	}
	return ""
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
//
// A member that cannot apply (its disk is full) fails at once with
// ErrLagging naming the cause; one that does not catch up within the
// apply timeout fails with ErrLagging too.
func (s *Store) linearize(ctx context.Context, opts ReadOptions) error {
	if opts.Stale {
		return nil
	}
	if err := s.applyFailure(); err != nil {
		applied, _ := s.fsm.appliedIndex()
		return s.lagging(applied, 0, err)
	}
	idx, err := s.readIndex(ctx)
	if err != nil {
		return err
	}
	wait := s.cfg.ApplyTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		wait = time.Until(d)
	}
	if err := s.fsm.waitApplied(idx, wait); err != nil {
		applied, _ := s.fsm.appliedIndex()
		return s.lagging(applied, idx, s.applyFailure())
	}
	return nil
}

// applyFailure is why this member cannot write its raft log or its state
// (nil: it can).
func (s *Store) applyFailure() error {
	if err := s.fsm.applyFailure(); err != nil {
		return err
	}
	return s.logWrite.failure()
}

// lagging is the ErrLagging for a member at applied, behind the leader's
// index (0: unknown), for cause (nil: slow, not failing).
func (s *Store) lagging(applied, leader uint64, cause error) error {
	msg := fmt.Sprintf("store: member %s is lagging: applied index %d", s.cfg.Name, applied)
	if leader > 0 {
		msg += fmt.Sprintf(", the leader's commit index %d", leader)
	}
	if cause != nil {
		msg += fmt.Sprintf("; cannot apply: %v", cause)
	}
	return &lagError{msg: msg + "; retry on another member"}
}

// Lag checks that this member keeps up with the leader: it can write its
// log and state, and it reaches the leader's current read index within
// LagWait, being no more than MaxLagEntries behind it. nil on the
// leader when it can write.
func (s *Store) Lag(ctx context.Context) error {
	applied, _ := s.fsm.appliedIndex()
	if err := s.applyFailure(); err != nil {
		return s.lagging(applied, 0, err)
	}
	if s.raft.State() == raft.Leader {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	idx, err := s.readIndex(cctx)
	if err != nil {
		return err
	}
	if idx > applied && idx-applied > s.cfg.MaxLagEntries {
		return s.lagging(applied, idx, nil)
	}
	if err := s.fsm.waitApplied(idx, s.cfg.LagWait); err != nil {
		applied, _ = s.fsm.appliedIndex()
		return s.lagging(applied, idx, s.applyFailure())
	}
	return nil
}

func (s *Store) readIndex(ctx context.Context) (uint64, error) {
	if s.raft.State() == raft.Leader {
		return s.leaderReadIndex(ctx)
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

// leaderReadIndex implements the read-index protocol on the leader. Reads
// that arrive while a confirmation round is under way share the next one
// (a round must start after the read did), so a burst of reads costs one
// round trip to the members, not one per read.
func (s *Store) leaderReadIndex(ctx context.Context) (uint64, error) {
	s.reads.mu.Lock()
	r := s.reads.next
	if r == nil {
		r = &readRound{done: make(chan struct{})}
		s.reads.next = r
	}
	if !s.reads.running {
		s.reads.running = true
		go s.runReadRounds()
	}
	s.reads.mu.Unlock()
	select {
	case <-r.done:
		return r.index, r.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: confirming leadership: %v", ErrNoLeader, ctx.Err())
	}
}

// readRound is one leadership confirmation, shared by every read that
// joined it before it started.
type readRound struct {
	done  chan struct{}
	index uint64
	err   error
}

type readRounds struct {
	mu      sync.Mutex
	next    *readRound // the round new reads join; nil: none waiting
	running bool       // a runReadRounds goroutine is working
}

func (s *Store) runReadRounds() {
	for {
		s.reads.mu.Lock()
		r := s.reads.next
		s.reads.next = nil
		if r == nil {
			s.reads.running = false
			s.reads.mu.Unlock()
			return
		}
		s.reads.mu.Unlock()
		r.index, r.err = s.confirmedReadIndex()
		close(r.done)
	}
}

// confirmedReadIndex takes the commit index, confirms that this member
// still leads in its term, and names the last entry at or below that
// commit index that the state machine applies (raft's no-op and barrier
// entries never reach it). A reader that has applied that entry has every
// write committed before the read began. The leader's own applied index
// would not do: a follower may apply a committed entry before the leader's
// state machine does. In a new term the barrier must have completed first,
// so that the commit index covers earlier terms.
func (s *Store) confirmedReadIndex() (uint64, error) {
	term := s.raft.CurrentTerm()
	if s.raft.State() != raft.Leader {
		return 0, fmt.Errorf("%w: member %s no longer leads", ErrNoLeader, s.cfg.Name)
	}
	if s.barrierTerm.Load() != term {
		if err := s.raft.Barrier(s.cfg.ApplyTimeout).Error(); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrNoLeader, err)
		}
		s.barrierTerm.Store(term)
	}
	commit := s.raft.CommitIndex()
	if err := s.confirmTerm(term); err != nil {
		return 0, err
	}
	return s.lastStateEntry(commit)
}

// confirmTerm asks every other voter, after the read began, whether it is
// still in this leader's term; a quorum (this member included) that is
// proves that no later leader had committed anything before the read, as a
// later leader's commit needs a majority that has left this term, and
// terms never go back.
//
// raft's VerifyLeader is not enough: it also counts replies to heartbeats
// and appends sent before the read began. A leader that was paused
// (SIGSTOP, a long GC or VM stall) while a new leader took over and
// committed writes still finds those old replies when it resumes, counts
// them as a quorum, and would serve a stale read.
func (s *Store) confirmTerm(term uint64) error {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	var others []raft.Server
	voters, votes := 0, 0
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage != raft.Voter {
			continue
		}
		voters++
		if srv.ID == raft.ServerID(s.cfg.Name) {
			votes++
		} else {
			others = append(others, srv)
		}
	}
	quorum := voters/2 + 1
	if votes < quorum {
		ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.ElectionTimeout)
		defer cancel()
		yes := make(chan bool, len(others))
		for _, srv := range others {
			go func(addr string) {
				var resp termResp
				err := s.peers.call(ctx, addr, "Term", &termReq{}, &resp)
				yes <- err == nil && resp.Term == term
			}(string(srv.Address))
		}
		for range others {
			if <-yes {
				if votes++; votes >= quorum {
					break
				}
			}
		}
	}
	if votes < quorum {
		return fmt.Errorf("%w: member %s could not confirm its leadership (term %d) with %d of %d voters", ErrNoLeader, s.cfg.Name, term, votes, voters)
	}
	if s.raft.CurrentTerm() != term || s.raft.State() != raft.Leader {
		return fmt.Errorf("%w: member %s lost its leadership (term %d) during a read", ErrNoLeader, s.cfg.Name, term)
	}
	return nil
}

// handleTerm answers a leader's confirmTerm with this member's current term.
func (s *Store) handleTerm(context.Context, *termReq) (*termResp, error) {
	return &termResp{Term: s.raft.CurrentTerm()}, nil
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
	idx, err := s.leaderReadIndex(ctx)
	if err != nil {
		return &readIndexResp{}, nil
	}
	return &readIndexResp{Index: idx}, nil
}
