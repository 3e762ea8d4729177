package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/raft"
)

// Member is one control-plane member as the cluster sees it.
type Member struct {
	Name     string `json:"name"`
	PeerAddr string `json:"peerAddr"`
	APIAddr  string `json:"apiAddr,omitempty"`
	Voter    bool   `json:"voter"`
	Leader   bool   `json:"leader"`
}

// memberResource holds each member's advertised addresses in the store, so
// that every member can list every other's API address.
const memberResource = "_members"

type memberRecord struct{ PeerAddr, APIAddr string }

func (s *Store) recordMember(ctx context.Context, name, peer, api string) error {
	v, _ := json.Marshal(memberRecord{PeerAddr: peer, APIAddr: api})
	cur, err := s.fsm.localGet(Key{Resource: memberResource, Name: name})
	if err == nil && string(cur.Value) == string(v) {
		return nil
	}
	_, err = s.Txn(ctx, Txn{Ops: []Op{{Kind: Put, Key: Key{Resource: memberResource, Name: name}, Value: v}}})
	return err
}

// Members lists the raft configuration with each member's addresses.
func (s *Store) Members(ctx context.Context) ([]Member, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	_, leaderID := s.raft.LeaderWithID()
	recs, _ := s.fsm.localList(ListOptions{Resource: memberResource})
	api := map[string]string{}
	for _, o := range recs.Objects {
		var r memberRecord
		if json.Unmarshal(o.Value, &r) == nil {
			api[o.Key.Name] = r.APIAddr
		}
	}
	var out []Member
	for _, srv := range f.Configuration().Servers {
		out = append(out, Member{
			Name: string(srv.ID), PeerAddr: string(srv.Address), APIAddr: api[string(srv.ID)],
			Voter: srv.Suffrage == raft.Voter, Leader: srv.ID == leaderID,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Leader is the current leader's member name ("" while there is none).
func (s *Store) Leader() string {
	_, id := s.raft.LeaderWithID()
	return string(id)
}

// IsLeader reports whether this member leads.
func (s *Store) IsLeader() bool { return s.raft.State() == raft.Leader }

// Ready is nil when the cluster has a leader this member knows of and
// this member keeps up with it (Lag).
func (s *Store) Ready() error {
	if s.Leader() == "" {
		return ErrNoLeader
	}
	return s.Lag(context.Background())
}

// join asks any of the given members to add this one: first as a
// non-voter, then, once it has caught up, as a voter.
func (s *Store) join(ctx context.Context) error {
	req := &joinReq{Name: s.cfg.Name, PeerAddr: s.cfg.Advertise, APIAddr: s.cfg.APIAddr}
	var resp joinResp
	var lastErr error
	for attempt := 0; ; attempt++ {
		for _, addr := range s.cfg.Join {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			lastErr = s.peers.call(cctx, addr, "Join", req, &resp)
			cancel()
			if lastErr == nil {
				break
			}
		}
		if lastErr == nil {
			break
		}
		if attempt%10 == 0 {
			s.log.Warn("join: no member answered yet; retrying", "members", s.cfg.Join, "error", lastErr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("join %v: %w (last error: %v)", s.cfg.Join, ctx.Err(), lastErr)
		case <-time.After(500 * time.Millisecond):
		}
	}
	if resp.Token != "" {
		s.token.Store(resp.Token)
	}
	s.log.Info("joined as non-voter; catching up", "leader-index", resp.Index)
	if err := s.fsm.waitApplied(resp.Index, 2*time.Minute); err != nil {
		return fmt.Errorf("join: catching up: %w", err)
	}
	return s.callLeader(ctx, "Promote", req, &emptyResp{})
}

// callLeader sends a membership RPC to any configured member, which
// forwards it to the leader, retrying for a while.
func (s *Store) callLeader(ctx context.Context, method string, req, resp any) error {
	var err error
	for i := 0; i < 60; i++ {
		addr, _ := s.raft.LeaderWithID()
		targets := append([]string{string(addr)}, s.cfg.Join...)
		for _, a := range targets {
			if a == "" {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = s.peers.call(cctx, a, method, req, resp)
			cancel()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: %w", method, err)
}

// forward sends a membership RPC to the leader when this member is not it.
func (s *Store) forward(ctx context.Context, method string, req, resp any) (bool, error) {
	if s.raft.State() == raft.Leader {
		return false, nil
	}
	addr, _ := s.raft.LeaderWithID()
	if addr == "" {
		return true, ErrNoLeader
	}
	return true, s.peers.call(ctx, string(addr), method, req, resp)
}

func (s *Store) handleJoin(ctx context.Context, r *joinReq) (*joinResp, error) {
	var resp joinResp
	if fwd, err := s.forward(ctx, "Join", r, &resp); fwd {
		return &resp, err
	}
	if r.Name == "" || r.PeerAddr == "" {
		return nil, errors.New("join: name and peer address are required")
	}
	if err := s.raft.AddNonvoter(raft.ServerID(r.Name), raft.ServerAddress(r.PeerAddr), 0, 10*time.Second).Error(); err != nil {
		return nil, fmt.Errorf("add non-voter %s: %w", r.Name, err)
	}
	if err := s.recordMember(ctx, r.Name, r.PeerAddr, r.APIAddr); err != nil {
		return nil, err
	}
	idx, _ := s.fsm.appliedIndex()
	s.log.Info("member joined as non-voter", "name", r.Name, "peer", r.PeerAddr)
	return &joinResp{Index: idx, Token: s.Token()}, nil
}

func (s *Store) handlePromote(ctx context.Context, r *joinReq) (*emptyResp, error) {
	if fwd, err := s.forward(ctx, "Promote", r, &emptyResp{}); fwd {
		return &emptyResp{}, err
	}
	if err := s.raft.AddVoter(raft.ServerID(r.Name), raft.ServerAddress(r.PeerAddr), 0, 10*time.Second).Error(); err != nil {
		return nil, fmt.Errorf("promote %s to voter: %w", r.Name, err)
	}
	s.log.Info("member promoted to voter", "name", r.Name)
	return &emptyResp{}, nil
}

// RemoveMember removes a member from the cluster (through the leader).
func (s *Store) RemoveMember(ctx context.Context, name string) error {
	_, err := s.handleRemove(ctx, &removeReq{Name: name})
	return err
}

func (s *Store) handleRemove(ctx context.Context, r *removeReq) (*emptyResp, error) {
	if fwd, err := s.forward(ctx, "Remove", r, &emptyResp{}); fwd {
		return &emptyResp{}, err
	}
	members, err := s.Members(ctx)
	if err != nil {
		return nil, err
	}
	found := false
	for _, m := range members {
		found = found || m.Name == r.Name
	}
	if !found {
		return nil, fmt.Errorf("member %q: %w", r.Name, ErrNotFound)
	}
	if err := s.raft.RemoveServer(raft.ServerID(r.Name), 0, 10*time.Second).Error(); err != nil {
		return nil, fmt.Errorf("remove member %s: %w", r.Name, err)
	}
	_, err = s.Txn(ctx, Txn{Ops: []Op{{Kind: Delete, Key: Key{Resource: memberResource, Name: r.Name}}}})
	return &emptyResp{}, err
}
