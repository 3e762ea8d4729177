package store

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The raft log and the state store hold weir's own compact binary records:
// length-prefixed fields, no reflection, bounds-checked on decode (a corrupt
// or hostile record is an error, never a panic).

const cmdVersion = 1

var errShort = errors.New("store: truncated record")

type enc struct{ b []byte }

func (e *enc) u8(v uint8)     { e.b = append(e.b, v) }
func (e *enc) uv(v uint64)    { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) bytes(v []byte) { e.uv(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) str(v string)   { e.uv(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) key(k Key)      { e.str(k.Resource); e.str(k.Namespace); e.str(k.Name) }
func (e *enc) object(o Object) {
	e.key(o.Key)
	e.bytes(o.Value)
	e.uv(o.CreateRevision)
	e.uv(o.Revision)
}

type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dec) u8() uint8 {
	if d.err != nil || len(d.b) < 1 {
		d.fail(errShort)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) uv() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes() []byte {
	n := d.uv()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail(errShort)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }
func (d *dec) key() Key    { return Key{Resource: d.str(), Namespace: d.str(), Name: d.str()} }

func (d *dec) object() Object {
	return Object{Key: d.key(), Value: d.bytes(), CreateRevision: d.uv(), Revision: d.uv()}
}

// count reads a collection length and rejects lengths that cannot fit in
// the remaining bytes (each element needs at least min bytes).
func (d *dec) count(min int) int {
	n := d.uv()
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.fail(fmt.Errorf("store: record claims %d elements in %d bytes", n, len(d.b)))
		return 0
	}
	return int(n)
}

func encodeTxn(t Txn) []byte {
	e := enc{b: make([]byte, 0, 64+txnValueBytes(t))}
	e.u8(cmdVersion)
	e.str(t.ID)
	e.uv(uint64(len(t.Conds)))
	for _, c := range t.Conds {
		e.u8(uint8(c.Kind))
		e.key(c.Key)
		e.uv(c.Revision)
	}
	e.uv(uint64(len(t.Ops)))
	for _, o := range t.Ops {
		e.u8(uint8(o.Kind))
		e.key(o.Key)
		e.bytes(o.Value)
	}
	return e.b
}

func txnValueBytes(t Txn) int {
	n := 0
	for _, o := range t.Ops {
		n += len(o.Value) + len(o.Key.Resource) + len(o.Key.Namespace) + len(o.Key.Name)
	}
	return n
}

func decodeTxn(b []byte) (Txn, error) {
	d := dec{b: b}
	if v := d.u8(); d.err == nil && v != cmdVersion {
		return Txn{}, fmt.Errorf("store: unknown command version %d", v)
	}
	t := Txn{ID: d.str()}
	if n := d.count(5); n > 0 {
		t.Conds = make([]Cond, n)
		for i := range t.Conds {
			t.Conds[i] = Cond{Kind: CondKind(d.u8()), Key: d.key(), Revision: d.uv()}
		}
	}
	if n := d.count(5); n > 0 {
		t.Ops = make([]Op, n)
		for i := range t.Ops {
			t.Ops[i] = Op{Kind: OpKind(d.u8()), Key: d.key(), Value: d.bytes()}
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("store: %d trailing bytes in command", len(d.b)))
	}
	return t, d.err
}

// encodeResult stores what a retried Txn must get back. Put values are left
// out: the retry carries the same ops and the caller fills them back in.
func encodeResult(r TxnResult, t Txn) []byte {
	var e enc
	e.uv(r.Revision)
	if r.Succeeded {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.uv(uint64(r.FailedCond))
	e.object(r.Current)
	e.uv(uint64(len(r.Objects)))
	for i, o := range r.Objects {
		if i < len(t.Ops) && t.Ops[i].Kind == Put {
			o.Value = nil
		}
		e.object(o)
	}
	return e.b
}

func decodeResult(b []byte, t Txn) (TxnResult, error) {
	d := dec{b: b}
	r := TxnResult{Revision: d.uv(), Succeeded: d.u8() == 1, FailedCond: int(d.uv()), Current: d.object()}
	if n := d.count(5); n > 0 {
		r.Objects = make([]Object, n)
		for i := range r.Objects {
			r.Objects[i] = d.object()
			if i < len(t.Ops) && t.Ops[i].Kind == Put {
				r.Objects[i].Value = t.Ops[i].Value
			}
		}
	}
	if len(r.Current.Value) == 0 && r.Current.Revision == 0 {
		r.Current = Object{}
	}
	return r, d.err
}

// Stored object: createRevision, revision (fixed 8 bytes each), value.
func encodeRecord(o Object) []byte {
	b := make([]byte, 16+len(o.Value))
	binary.BigEndian.PutUint64(b, o.CreateRevision)
	binary.BigEndian.PutUint64(b[8:], o.Revision)
	copy(b[16:], o.Value)
	return b
}

// decodeRecord copies the value: bbolt memory is valid only inside its tx.
func decodeRecord(k Key, b []byte) (Object, error) {
	if len(b) < 16 {
		return Object{}, fmt.Errorf("store: corrupt record for %s", k)
	}
	return Object{
		Key:            k,
		CreateRevision: binary.BigEndian.Uint64(b),
		Revision:       binary.BigEndian.Uint64(b[8:]),
		Value:          append([]byte(nil), b[16:]...),
	}, nil
}

func encodeEvent(ev Event) []byte {
	var e enc
	e.u8(uint8(ev.Type))
	e.uv(ev.Revision)
	e.object(ev.Object)
	if ev.Prev != nil {
		e.u8(1)
		e.object(*ev.Prev)
	} else {
		e.u8(0)
	}
	return e.b
}

func decodeEvent(b []byte) (Event, error) {
	d := dec{b: append([]byte(nil), b...)}
	ev := Event{Type: EventType(d.u8()), Revision: d.uv(), Object: d.object()}
	if d.u8() == 1 {
		p := d.object()
		ev.Prev = &p
	}
	return ev, d.err
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}
