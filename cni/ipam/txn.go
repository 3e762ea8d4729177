package ipam

import (
	"fmt"
	"net/netip"

	bolt "go.etcd.io/bbolt"
)

// txView implements View over a bbolt transaction.
type txView struct{ tx *bolt.Tx }

func (v txView) AddrOf(k Key) (netip.Addr, bool) {
	raw := v.tx.Bucket(bucketOwners).Get([]byte(k.String()))
	if raw == nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(raw))
	return a, err == nil
}

func (v txView) Taken(a netip.Addr) bool {
	return v.tx.Bucket(bucketAddrs).Get(a.AsSlice()) != nil
}

func (v txView) Last() netip.Addr {
	a, _ := netip.AddrFromSlice(v.tx.Bucket(bucketMeta).Get(keyLast))
	return a
}

// Allocate returns the address k owns, assigning and durably recording a
// new one when k owns none. created reports whether the address is new.
func (s *Store) Allocate(r Range, k Key) (addr netip.Addr, created bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		d, err := Assign(r, txView{tx}, k)
		if err != nil {
			return err
		}
		addr, created = d.Addr, !d.Existing
		if d.Existing {
			return nil
		}
		return put(tx, Allocation{Addr: d.Addr, Key: k})
	})
	if err != nil {
		return netip.Addr{}, false, fmt.Errorf("allocate for %s: %w", k, err)
	}
	return addr, created, nil
}

func put(tx *bolt.Tx, a Allocation) error {
	if err := tx.Bucket(bucketOwners).Put([]byte(a.Key.String()), []byte(a.Addr.String())); err != nil {
		return err
	}
	if err := tx.Bucket(bucketAddrs).Put(a.Addr.AsSlice(), []byte(a.Key.String())); err != nil {
		return err
	}
	return tx.Bucket(bucketMeta).Put(keyLast, a.Addr.AsSlice())
}

// Release frees the address k owns. It reports the address and whether
// there was one; releasing a key that owns nothing is not an error.
func (s *Store) Release(k Key) (addr netip.Addr, ok bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		addr, ok = txView{tx}.AddrOf(k)
		if !ok {
			return nil
		}
		return remove(tx, Allocation{Addr: addr, Key: k})
	})
	if err != nil {
		return netip.Addr{}, false, fmt.Errorf("release %s: %w", k, err)
	}
	return addr, ok, nil
}

// ReleaseAll frees each allocation that is still exactly as given (same
// key, same address), in one transaction, and returns how many it freed.
// GC lists, cleans up and then calls it, so an allocation that changed in
// between is left alone.
func (s *Store) ReleaseAll(allocs []Allocation) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		for _, a := range allocs {
			if cur, ok := (txView{tx}).AddrOf(a.Key); !ok || cur != a.Addr {
				continue
			}
			if err := remove(tx, a); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release %d allocations: %w", len(allocs), err)
	}
	return n, nil
}

func remove(tx *bolt.Tx, a Allocation) error {
	if err := tx.Bucket(bucketOwners).Delete([]byte(a.Key.String())); err != nil {
		return err
	}
	addrs := tx.Bucket(bucketAddrs)
	if string(addrs.Get(a.Addr.AsSlice())) != a.Key.String() {
		return nil
	}
	return addrs.Delete(a.Addr.AsSlice())
}

// Lookup returns the address k owns, if any.
func (s *Store) Lookup(k Key) (addr netip.Addr, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		addr, ok = txView{tx}.AddrOf(k)
		return nil
	})
	return addr, ok, err
}
