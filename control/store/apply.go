package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// applyCommand applies one raft command (an encoded Txn) at revision rev
// inside the batch's bbolt transaction. A malformed command or a failed
// condition changes nothing. A Txn whose ID was applied before returns the
// first result again without applying (idempotent retries).
func applyCommand(tx *bolt.Tx, rev uint64, data []byte) (TxnResult, []Event, error) {
	t, err := decodeTxn(data)
	if err != nil {
		return TxnResult{}, nil, err
	}
	reqs := tx.Bucket(bucketRequests)
	if t.ID != "" {
		if prev := reqs.Get([]byte(t.ID)); prev != nil {
			r, err := decodeResult(prev, t)
			return r, nil, err
		}
	}
	objs := tx.Bucket(bucketObjects)
	res := TxnResult{Revision: rev, Succeeded: true}
	for i, c := range t.Conds {
		cur, ok, err := getObject(objs, c.Key)
		if err != nil {
			return TxnResult{}, nil, err
		}
		if !condHolds(c, cur, ok) {
			res.Succeeded, res.FailedCond, res.Current = false, i, cur
			break
		}
	}
	var events []Event
	if res.Succeeded {
		events, res.Objects, err = applyOps(objs, tx.Bucket(bucketEvents), rev, t.Ops)
		if err != nil {
			return TxnResult{}, nil, err
		}
	}
	if t.ID != "" {
		if err := reqs.Put([]byte(t.ID), encodeResult(res, t)); err != nil {
			return TxnResult{}, nil, err
		}
		if err := tx.Bucket(bucketReqByRev).Put(u64(rev), []byte(t.ID)); err != nil {
			return TxnResult{}, nil, err
		}
	}
	return res, events, nil
}

func condHolds(c Cond, cur Object, exists bool) bool {
	switch c.Kind {
	case MustNotExist:
		return !exists
	case MustExist:
		return exists
	case RevisionIs:
		return exists && cur.Revision == c.Revision
	}
	return false
}

func getObject(objs *bolt.Bucket, k Key) (Object, bool, error) {
	v := objs.Get(k.encode())
	if v == nil {
		return Object{}, false, nil
	}
	o, err := decodeRecord(k, v)
	return o, err == nil, err
}

// applyOps writes the ops and their events (key: revision, sequence).
func applyOps(objs, evb *bolt.Bucket, rev uint64, ops []Op) ([]Event, []Object, error) {
	events := make([]Event, 0, len(ops))
	results := make([]Object, 0, len(ops))
	for seq, op := range ops {
		prev, existed, err := getObject(objs, op.Key)
		if err != nil {
			return nil, nil, err
		}
		ev := Event{Revision: rev}
		if existed {
			p := prev
			ev.Prev = &p
		}
		switch op.Kind {
		case Put:
			o := Object{Key: op.Key, Value: op.Value, CreateRevision: rev, Revision: rev}
			ev.Type = Added
			if existed {
				o.CreateRevision = prev.CreateRevision
				ev.Type = Modified
			}
			if err := objs.Put(op.Key.encode(), encodeRecord(o)); err != nil {
				return nil, nil, err
			}
			ev.Object = o
		case Delete:
			if !existed {
				results = append(results, Object{Key: op.Key})
				continue
			}
			if err := objs.Delete(op.Key.encode()); err != nil {
				return nil, nil, err
			}
			ev.Type = Deleted
			ev.Object = prev
			ev.Object.Revision = rev
		default:
			return nil, nil, fmt.Errorf("store: unknown op kind %d", op.Kind)
		}
		results = append(results, ev.Object)
		if err := evb.Put(eventKey(rev, seq), encodeEvent(ev)); err != nil {
			return nil, nil, err
		}
		events = append(events, ev)
	}
	return events, results, nil
}

func eventKey(rev uint64, seq int) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, rev)
	binary.BigEndian.PutUint32(k[8:], uint32(seq))
	return k
}
