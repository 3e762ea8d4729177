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
// opts.Revision is set, as of that revision (rolling the retained history
// back).
func (f *fsm) localList(opts ListOptions) (ListResult, error) {
	var res ListResult
	err := f.view(func(tx *bolt.Tx) error {
		applied := getU64(tx.Bucket(bucketMeta), keyApplied)
		floor := getU64(tx.Bucket(bucketMeta), keyCompacted)
		res.Revision = applied
		if opts.Revision != 0 {
			if opts.Revision > applied {
				return ErrFutureRevision
			}
			if opts.Revision+1 < floor {
				return ErrGone
			}
			res.Revision = opts.Revision
		}
		objs, err := scanObjects(tx, opts.Resource, opts.Namespace)
		if err != nil {
			return err
		}
		if opts.Revision != 0 && opts.Revision < applied {
			objs, err = rollBack(tx, objs, opts, applied)
			if err != nil {
				return err
			}
		}
		res.Objects = objs
		return nil
	})
	return res, err
}

func scanObjects(tx *bolt.Tx, resource, namespace string) ([]Object, error) {
	var out []Object
	prefix := listPrefix(resource, namespace)
	c := tx.Bucket(bucketObjects).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		key, err := decodeKey(k)
		if err != nil {
			return nil, err
		}
		o, err := decodeRecord(key, v)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// rollBack undoes, newest first, every retained event after opts.Revision
// that touches the listed keys, giving the list as of opts.Revision.
func rollBack(tx *bolt.Tx, objs []Object, opts ListOptions, applied uint64) ([]Object, error) {
	state := make(map[Key]Object, len(objs))
	for _, o := range objs {
		state[o.Key] = o
	}
	w := &Watcher{opts: WatchOptions{Resource: opts.Resource, Namespace: opts.Namespace}}
	events, err := readHistory(tx, w, opts.Revision, applied)
	if err != nil {
		return nil, err
	}
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		if ev.Prev == nil {
			delete(state, ev.Object.Key)
		} else {
			state[ev.Object.Key] = *ev.Prev
		}
	}
	out := make([]Object, 0, len(state))
	for _, o := range state {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key.encode(), out[j].Key.encode()) < 0 })
	return out, nil
}
