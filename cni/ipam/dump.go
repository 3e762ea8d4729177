package ipam

import (
	"fmt"
	"io"
	"net/netip"

	bolt "go.etcd.io/bbolt"
)

// List returns every allocation in address order.
func (s *Store) List() ([]Allocation, error) {
	var out []Allocation
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAddrs).ForEach(func(k, v []byte) error {
			a, ok := netip.AddrFromSlice(k)
			if !ok {
				return fmt.Errorf("ipam: malformed address key %x in addrs", k)
			}
			key, err := ParseKey(string(v))
			if err != nil {
				return err
			}
			out = append(out, Allocation{Addr: a, Key: key})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list allocations: %w", err)
	}
	return out, nil
}

// Free returns how many pod addresses of r nobody owns.
func (s *Store) Free(r Range) (uint32, error) {
	used := uint32(0)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAddrs).ForEach(func(k, _ []byte) error {
			if a, ok := netip.AddrFromSlice(k); ok && r.Contains(a) {
				used++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("count allocations: %w", err)
	}
	return r.Size() - used, nil
}

// Check verifies the store's invariant: owners and addrs are each other's
// inverse, so no address has two owners and no owner two addresses.
func (s *Store) Check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		owners, addrs := tx.Bucket(bucketOwners), tx.Bucket(bucketAddrs)
		if owners.Stats().KeyN != addrs.Stats().KeyN {
			return fmt.Errorf("ipam: store inconsistent: %d owners but %d addresses", owners.Stats().KeyN, addrs.Stats().KeyN)
		}
		return owners.ForEach(func(k, v []byte) error {
			a, err := netip.ParseAddr(string(v))
			if err != nil {
				return fmt.Errorf("ipam: owner %s has malformed address %q", k, v)
			}
			if got := addrs.Get(a.AsSlice()); string(got) != string(k) {
				return fmt.Errorf("ipam: store inconsistent: %s owns %s but %s is recorded for %q", k, a, a, got)
			}
			return nil
		})
	})
}

// Dump writes the store as stable text (for golden tests and debugging):
// the schema, the round-robin cursor and one "address key" line per
// allocation in address order.
func (s *Store) Dump(w io.Writer) error {
	var last netip.Addr
	if err := s.db.View(func(tx *bolt.Tx) error { last = txView{tx}.Last(); return nil }); err != nil {
		return err
	}
	allocs, err := s.List()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "schema %s\n", schema)
	if last.IsValid() {
		fmt.Fprintf(w, "last %s\n", last)
	}
	for _, a := range allocs {
		fmt.Fprintf(w, "%s %s\n", a.Addr, a.Key)
	}
	return nil
}
