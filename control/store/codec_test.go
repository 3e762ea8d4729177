package store

import (
	"bytes"
	"testing"
)

func sampleTxn() Txn {
	k := Key{Resource: "pods", Namespace: "default", Name: "p"}
	return Txn{ID: "id-1",
		Conds: []Cond{{Kind: RevisionIs, Key: k, Revision: 42}, {Kind: MustNotExist, Key: Key{Resource: "_clusterips", Name: "10.96.0.10"}}},
		Ops:   []Op{{Kind: Put, Key: k, Value: []byte(`{"kind":"Pod"}`)}, {Kind: Delete, Key: k}}}
}

func TestTxnCodecRoundTrip(t *testing.T) {
	in := sampleTxn()
	out, err := decodeTxn(encodeTxn(in))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeTxn(out), encodeTxn(in)) || out.ID != in.ID || len(out.Ops) != 2 || out.Conds[0].Revision != 42 {
		t.Fatalf("round trip: %+v", out)
	}
	res := TxnResult{Revision: 7, Succeeded: true, Objects: []Object{{Key: in.Ops[0].Key, Value: in.Ops[0].Value, Revision: 7, CreateRevision: 3}, {Key: in.Ops[1].Key, Value: []byte("old"), Revision: 7}}}
	back, err := decodeResult(encodeResult(res, in), in)
	if err != nil || string(back.Objects[0].Value) != `{"kind":"Pod"}` || string(back.Objects[1].Value) != "old" || back.Objects[0].CreateRevision != 3 {
		t.Fatalf("result round trip: %+v %v", back, err)
	}
}

// FuzzDecodeTxn: a corrupt raft entry is an error, never a panic or a huge
// allocation.
func FuzzDecodeTxn(f *testing.F) {
	f.Add(encodeTxn(sampleTxn()))
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		txn, err := decodeTxn(data)
		if err != nil {
			return
		}
		again, err := decodeTxn(encodeTxn(txn))
		if err != nil || again.ID != txn.ID || len(again.Ops) != len(txn.Ops) || len(again.Conds) != len(txn.Conds) {
			t.Fatalf("re-encode of a decoded txn failed: %v", err)
		}
		_, _ = decodeEvent(data)
		_, _ = decodeResult(data, txn)
	})
}
