package api

import (
	"context"
	"errors"

	"github.com/weirnet/weir/control/store"
)

// maxAttempts bounds the retries of a write whose read went stale (an
// object changed between our read and our Txn, or an allocation raced with
// another member's).
const maxAttempts = 8

// errRetry asks the write loop to read again and retry.
var errRetry = errors.New("api: retry the write")

// plan is one attempt of a write: a store Txn and, for each Cond, what its
// failure means (nil: retry).
type plan struct {
	conds  []store.Cond
	onFail []func(cur store.Object) error
	ops    []store.Op
}

func (p *plan) cond(c store.Cond, onFail func(cur store.Object) error) {
	p.conds = append(p.conds, c)
	p.onFail = append(p.onFail, onFail)
}

// put adds a Put and returns its index in TxnResult.Objects.
func (p *plan) put(k store.Key, v []byte) int {
	p.ops = append(p.ops, store.Op{Kind: store.Put, Key: k, Value: v})
	return len(p.ops) - 1
}

func (p *plan) del(k store.Key) int {
	p.ops = append(p.ops, store.Op{Kind: store.Delete, Key: k})
	return len(p.ops) - 1
}

// commit runs the plan as one Txn with a fresh ID. A failed Cond becomes
// its onFail error, or errRetry.
func (s *Server) commit(ctx context.Context, p *plan) (store.TxnResult, error) {
	tr, err := s.store.Txn(ctx, store.Txn{ID: newTxnID(), Conds: p.conds, Ops: p.ops})
	if err != nil {
		return tr, err
	}
	if !tr.Succeeded {
		i := tr.FailedCond
		if i >= 0 && i < len(p.onFail) && p.onFail[i] != nil {
			return tr, p.onFail[i](tr.Current)
		}
		return tr, errRetry
	}
	return tr, nil
}

// newTxnID is store.NewRequestID: time-ordered, so that the IDs of a batch
// land together in the store's index of applied requests.
func newTxnID() string { return store.NewRequestID() }

// fail returns an onFail func that always answers err.
func fail(err error) func(store.Object) error {
	return func(store.Object) error { return err }
}
