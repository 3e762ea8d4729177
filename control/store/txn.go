package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// MaxCommandBytes bounds one Txn's encoded size (the API's body limit is
// below it).
const MaxCommandBytes = 8 << 20

// NewRequestID returns a fresh ID for a Txn: the current time in
// nanoseconds then 64 random bits, hex-encoded (32 characters). Only
// uniqueness matters for correctness; the time prefix makes IDs issued
// close together sort close together, so that the requests bucket grows
// at its end instead of dirtying a random leaf page for every Txn of a
// batch.
func NewRequestID() string {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(time.Now().UnixNano()))
	_, _ = rand.Read(b[8:])
	return hex.EncodeToString(b)
}

// Txn applies t through raft, on the leader or forwarded to it, retrying
// with the same ID while there is no leader or the leader changes, until ctx
// ends. A retried Txn is applied at most once.
func (s *Store) Txn(ctx context.Context, t Txn) (TxnResult, error) {
	if t.ID == "" {
		t.ID = NewRequestID()
	}
	plain := t
	gen := s.enc.acquire()
	defer gen.inflight.RUnlock()
	t, err := encryptTxn(gen.tr, t)
	if err != nil {
		return TxnResult{}, err
	}
	cmd := encodeTxn(t)
	if len(cmd) > MaxCommandBytes {
		return TxnResult{}, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(cmd), MaxCommandBytes)
	}
	backoff := 20 * time.Millisecond
	for {
		res, err := s.applyOnce(ctx, cmd, t)
		if err == nil {
			return s.decryptResult(res, plain)
		}
		if !retryable(err) {
			return res, err
		}
		select {
		case <-ctx.Done():
			return TxnResult{}, fmt.Errorf("%w (last error: %v)", ErrNoLeader, err)
		case <-s.stop:
			return TxnResult{}, ErrClosed
		case <-time.After(backoff):
		}
		if backoff < 500*time.Millisecond {
			backoff *= 2
		}
	}
}

func retryable(err error) bool {
	switch {
	case errors.Is(err, ErrNoLeader), errors.Is(err, errNotLeader),
		errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout),
		errors.Is(err, errPeerUnavailable):
		return true
	}
	return false
}

var errPeerUnavailable = errors.New("store: leader unreachable")

func (s *Store) applyOnce(ctx context.Context, cmd []byte, t Txn) (TxnResult, error) {
	if s.raft.State() == raft.Leader {
		return s.applyLocal(cmd)
	}
	addr, _ := s.raft.LeaderWithID()
	if addr == "" {
		return TxnResult{}, ErrNoLeader
	}
	var resp applyResp
	cctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout+time.Second)
	defer cancel()
	if err := s.peers.call(cctx, string(addr), "Apply", &applyReq{Cmd: cmd}, &resp); err != nil {
		if ctx.Err() != nil {
			return TxnResult{}, ctx.Err()
		}
		return TxnResult{}, fmt.Errorf("%w: %v", errPeerUnavailable, err)
	}
	if err := errFromWire(resp.Err); err != nil {
		return TxnResult{}, err
	}
	return decodeResult(resp.Result, t)
}

func (s *Store) applyLocal(cmd []byte) (TxnResult, error) {
	f := s.raft.Apply(cmd, s.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return TxnResult{}, err
	}
	switch r := f.Response().(type) {
	case TxnResult:
		return r, nil
	case error:
		return TxnResult{}, r
	case nil:
		return TxnResult{}, errors.New("store: entry was already applied before a restart; retry")
	default:
		return TxnResult{}, fmt.Errorf("store: unexpected apply response %T", r)
	}
}

// handleApply runs a forwarded Txn on this member, which must be the leader
// (a member that lost leadership meanwhile answers errNotLeader and the
// caller retries wherever the leader is now).
func (s *Store) handleApply(ctx context.Context, r *applyReq) (*applyResp, error) {
	if s.raft.State() != raft.Leader {
		return &applyResp{Err: errToWire(errNotLeader)}, nil
	}
	t, err := decodeTxn(r.Cmd)
	if err != nil {
		return &applyResp{Err: err.Error()}, nil
	}
	res, err := s.applyLocal(r.Cmd)
	if err != nil {
		if retryable(err) {
			err = errNotLeader
		}
		return &applyResp{Err: errToWire(err)}, nil
	}
	return &applyResp{Result: encodeResult(res, t)}, nil
}
