package store

import (
	"context"
	"fmt"
)

// Create writes a new object; ErrExists when the key is taken.
func Create(ctx context.Context, s Interface, k Key, value []byte) (Object, error) {
	res, err := s.Txn(ctx, Txn{Conds: []Cond{{Kind: MustNotExist, Key: k}}, Ops: []Op{{Kind: Put, Key: k, Value: value}}})
	if err != nil {
		return Object{}, err
	}
	if !res.Succeeded {
		return res.Current, fmt.Errorf("%s: %w", k, ErrExists)
	}
	return res.Objects[0], nil
}

// Update replaces an existing object. A non-zero rev must equal the stored
// revision (ErrConflict otherwise); ErrNotFound when it does not exist.
func Update(ctx context.Context, s Interface, k Key, value []byte, rev uint64) (Object, error) {
	c := Cond{Kind: MustExist, Key: k}
	if rev != 0 {
		c = Cond{Kind: RevisionIs, Key: k, Revision: rev}
	}
	res, err := s.Txn(ctx, Txn{Conds: []Cond{c}, Ops: []Op{{Kind: Put, Key: k, Value: value}}})
	if err != nil {
		return Object{}, err
	}
	if !res.Succeeded {
		return res.Current, condError(k, res.Current)
	}
	return res.Objects[0], nil
}

// Remove deletes an object (at rev when non-zero) and returns its last
// state, with Revision set to the revision of the delete.
func Remove(ctx context.Context, s Interface, k Key, rev uint64) (Object, error) {
	c := Cond{Kind: MustExist, Key: k}
	if rev != 0 {
		c = Cond{Kind: RevisionIs, Key: k, Revision: rev}
	}
	res, err := s.Txn(ctx, Txn{Conds: []Cond{c}, Ops: []Op{{Kind: Delete, Key: k}}})
	if err != nil {
		return Object{}, err
	}
	if !res.Succeeded {
		return res.Current, condError(k, res.Current)
	}
	return res.Objects[0], nil
}

func condError(k Key, cur Object) error {
	if cur.Revision == 0 {
		return fmt.Errorf("%s: %w", k, ErrNotFound)
	}
	return fmt.Errorf("%s (stored revision %d): %w", k, cur.Revision, ErrConflict)
}
