package store

import (
	"bytes"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// localGet reads one object from this member's state.
func (f *fsm) localGet(k Key) (Object, error) {
	var o Object
	err := f.view(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		o, ok, err = getObject(tx.Bucket(bucketObjects), k)
		if err == nil && !ok {
			err = ErrNotFound
		}
		return err
	})
	return o, err
}

func listPrefix(resource, namespace string) []byte {
	p := []byte(resource + "\x00")
	if namespace != "" {
		p = append(p, namespace+"\x00"...)
	}
	return p
}

// localList lists from this member's state, at the latest revision or, when
// opts.Revision is set, as of that revision: the current objects merged, in
// key order, with the values the retained events after that revision
// overwrote (rolling them back), from opts.Start for at most opts.Limit
// objects.
func (f *fsm) localList(opts ListOptions) (ListResult, error) {
	res := ListResult{Remaining: -1}
	err := f.view(func(tx *bolt.Tx) error {
		applied := getU64(tx.Bucket(bucketMeta), keyApplied)
		floor := getU64(tx.Bucket(bucketMeta), keyCompacted)
		res.Revision = applied
		var past []rolledBack
		if opts.Revision != 0 {
			if opts.Revision > applied {
				return ErrFutureRevision
			}
			if opts.Revision+1 < floor {
				return gone(opts.Revision, floor)
			}
			res.Revision = opts.Revision
			if opts.Revision < applied {
				var err error
				if past, err = rollBack(tx, opts, applied); err != nil {
					return err
				}
			}
		}
		return scanPage(tx, opts, past, &res)
	})
	return res, err
}

// rolledBack is a key's value as of a past revision (nil: absent then).
type rolledBack struct {
	key []byte
	obj *Object
}

// rollBack undoes, newest first, every retained event after opts.Revision
// that touches the listed keys and returns each touched key's value as of
// opts.Revision, in key order.
func rollBack(tx *bolt.Tx, opts ListOptions, applied uint64) ([]rolledBack, error) {
	w := &Watcher{opts: WatchOptions{Resource: opts.Resource, Namespace: opts.Namespace}}
	events, err := readHistory(tx, w, opts.Revision, applied)
	if err != nil {
		return nil, err
	}
	state := map[Key]*Object{}
	for i := len(events) - 1; i >= 0; i-- {
		state[events[i].Object.Key] = events[i].Prev
	}
	out := make([]rolledBack, 0, len(state))
	for k, o := range state {
		out = append(out, rolledBack{key: k.encode(), obj: o})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].key, out[j].key) < 0 })
	return out, nil
}

// scanPage walks the objects bucket from the page's first key, taking a
// rolled-back value instead of the current one where past has one, until
// the page is full; then it notes whether more follow and, when asked,
// counts them.
func scanPage(tx *bolt.Tx, opts ListOptions, past []rolledBack, res *ListResult) error {
	prefix := listPrefix(opts.Resource, opts.Namespace)
	seek := prefix
	if opts.Start != (Key{}) {
		if s := (Key{Resource: opts.Resource, Namespace: opts.Start.Namespace, Name: opts.Start.Name}).encode(); bytes.Compare(s, seek) > 0 {
			seek = s
		}
	}
	pi := sort.Search(len(past), func(i int) bool { return bytes.Compare(past[i].key, seek) >= 0 })
	c := tx.Bucket(bucketObjects).Cursor()
	k, v := c.Seek(seek)
	full := false
	for {
		cur := k != nil && bytes.HasPrefix(k, prefix)
		if !cur && pi == len(past) {
			return nil
		}
		var key []byte
		var val []byte
		var old *Object
		fromPast := pi < len(past) && (!cur || bytes.Compare(past[pi].key, k) <= 0)
		if fromPast {
			key, old = past[pi].key, past[pi].obj
			if cur && bytes.Equal(k, key) {
				k, v = c.Next()
			}
			pi++
			if old == nil {
				continue
			}
		} else {
			key, val = k, v
			k, v = c.Next()
		}
		if full {
			res.More = true
			if !opts.CountRemaining {
				return nil
			}
			res.Remaining++
			continue
		}
		o := old
		if o == nil {
			dk, err := decodeKey(key)
			if err != nil {
				return err
			}
			ob, err := decodeRecord(dk, val)
			if err != nil {
				return err
			}
			o = &ob
		}
		res.Objects = append(res.Objects, *o)
		if opts.Limit > 0 && len(res.Objects) == opts.Limit {
			full = true
			if opts.CountRemaining {
				res.Remaining = 0
			}
		}
	}
}
