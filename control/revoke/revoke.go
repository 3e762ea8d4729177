package revoke

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/weirnet/weir/control/revoke/revokeapi"
	"github.com/weirnet/weir/control/store"
)

// The store resources this package owns: Resource is the revocation list
// (namespace "serial": one certificate, named by its serial; namespace
// "user": every certificate of a user issued up to a time), NodeCertsResource
// the node client certificates the node-stream signer issued (namespace: the
// node, name: the serial).
const (
	Resource          = "_revoked"
	NodeCertsResource = "_nodecerts"
	nsSerial          = "serial"
	nsUser            = "user"
)

// Backdate is how far weir's certificate issuers backdate NotBefore for
// clock skew (member.IssueClientCert, the node signer at most): a user
// revocation at T covers certificates with NotBefore before T-Backdate.
const Backdate = 5 * time.Minute

// Entry, Request and List are the wire types (revokeapi), here for short.
type (
	Entry   = revokeapi.Entry
	Request = revokeapi.Request
	List    = revokeapi.List
)

// NodeCert is the record of one node client certificate, written when it
// is signed. NodeRevision is the CreateRevision of the node's Node when
// the certificate was signed (0: no Node yet, a first join), which ties
// the certificate to that Node: deleting it revokes the certificate.
type NodeCert struct {
	Serial       string    `json:"serial"`
	Node         string    `json:"node"`
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	NotAfter     time.Time `json:"notAfter"`
	NodeRevision uint64    `json:"nodeRevision,omitempty"`
}

// SerialOf is a certificate serial number as weir writes it: lowercase
// hex without leading zeros or colons.
func SerialOf(c *x509.Certificate) string { return c.SerialNumber.Text(16) }

// ParseSerial reads a serial as openssl prints it (hex, any case, colons
// allowed, optional 0x).
func ParseSerial(s string) (string, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	h = strings.TrimPrefix(h, "0x")
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || h == "" || n.Sign() <= 0 {
		return "", fmt.Errorf("serial %q: want the certificate's serial number in hex, as `openssl x509 -noout -serial` prints it", s)
	}
	return n.Text(16), nil
}

func serialKey(serial string) store.Key {
	return store.Key{Resource: Resource, Namespace: nsSerial, Name: serial}
}
func userKey(name string) store.Key {
	return store.Key{Resource: Resource, Namespace: nsUser, Name: name}
}

// NodeCertKey is where the record of a node certificate lives.
func NodeCertKey(node, serial string) store.Key {
	return store.Key{Resource: NodeCertsResource, Namespace: node, Name: serial}
}

func txnID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RecordNodeCert records a node client certificate the signer issued, with
// the CreateRevision of the node's Node at that moment (0 when absent).
// The signer hands out no certificate it could not record.
func RecordNodeCert(ctx context.Context, st store.Interface, node string, c *x509.Certificate) error {
	rec := NodeCert{Serial: SerialOf(c), Node: node, Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotAfter: c.NotAfter.UTC()}
	n, err := st.Get(ctx, store.Key{Resource: "nodes", Name: node}, store.ReadOptions{})
	switch {
	case err == nil:
		rec.NodeRevision = n.CreateRevision
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("record node certificate %s: read node %s: %w", rec.Serial, node, err)
	}
	val, _ := json.Marshal(rec)
	if _, err := st.Txn(ctx, store.Txn{ID: txnID(), Ops: []store.Op{{Kind: store.Put, Key: NodeCertKey(node, rec.Serial), Value: val}}}); err != nil {
		return fmt.Errorf("record node certificate %s: %w", rec.Serial, err)
	}
	return nil
}

// Put writes e (a Serial or a User entry) and returns the revision of the
// write. Writing a User entry again moves its time to e.Revoked.
func Put(ctx context.Context, st store.Interface, e Entry) (uint64, error) {
	var key store.Key
	switch {
	case e.Serial != "" && e.User == "":
		key = serialKey(e.Serial)
	case e.User != "" && e.Serial == "":
		key = userKey(e.User)
	default:
		return 0, errors.New("revoke: an entry names either a serial or a user")
	}
	if e.Revoked.IsZero() {
		e.Revoked = time.Now().UTC()
	}
	val, _ := json.Marshal(e)
	res, err := st.Txn(ctx, store.Txn{ID: txnID(), Ops: []store.Op{{Kind: store.Put, Key: key, Value: val}}})
	if err != nil {
		return 0, fmt.Errorf("revoke %s: %w", key.Name, err)
	}
	return res.Revision, nil
}

// RevokeNode revokes the recorded certificates of node created before
// revision before (0: all of them): each record becomes a revocation entry
// in one Txn conditioned on the record, which it deletes. It returns the
// entries written and the revision of the last write.
func RevokeNode(ctx context.Context, st store.Interface, node, reason string, before uint64) ([]Entry, uint64, error) {
	lr, err := st.List(ctx, store.ListOptions{Resource: NodeCertsResource, Namespace: node})
	if err != nil {
		return nil, 0, fmt.Errorf("revoke node %s: list its certificates: %w", node, err)
	}
	var out []Entry
	var rev uint64
	for _, o := range lr.Objects {
		if before != 0 && o.CreateRevision >= before {
			continue
		}
		e, r, err := revokeRecord(ctx, st, o, reason)
		if err != nil {
			return out, rev, fmt.Errorf("revoke node %s: %w", node, err)
		}
		if r != 0 {
			out, rev = append(out, e), r
		}
	}
	return out, rev, nil
}

// revokeRecord turns one node certificate record into a revocation entry,
// in one Txn conditioned on the record, which it deletes. Revision 0: the
// record changed or went meanwhile (nothing written).
func revokeRecord(ctx context.Context, st store.Interface, o store.Object, reason string) (Entry, uint64, error) {
	var rec NodeCert
	if err := json.Unmarshal(o.Value, &rec); err != nil || rec.Serial == "" {
		return Entry{}, 0, nil
	}
	e := Entry{Serial: rec.Serial, Issuer: rec.Issuer, Subject: rec.Subject, Reason: reason, Revoked: time.Now().UTC(), NotAfter: rec.NotAfter}
	val, _ := json.Marshal(e)
	res, err := st.Txn(ctx, store.Txn{ID: txnID(),
		Conds: []store.Cond{{Kind: store.RevisionIs, Key: o.Key, Revision: o.Revision}},
		Ops:   []store.Op{{Kind: store.Put, Key: serialKey(e.Serial), Value: val}, {Kind: store.Delete, Key: o.Key}}})
	if err != nil {
		return Entry{}, 0, fmt.Errorf("certificate %s: %w", rec.Serial, err)
	}
	if !res.Succeeded {
		return Entry{}, 0, nil
	}
	return e, res.Revision, nil
}

// NodeCertOf is the record of a node certificate by serial, if the signer
// recorded it and it is not revoked yet.
func NodeCertOf(ctx context.Context, st store.Interface, serial string) (NodeCert, bool, error) {
	lr, err := st.List(ctx, store.ListOptions{Resource: NodeCertsResource})
	if err != nil {
		return NodeCert{}, false, err
	}
	for _, o := range lr.Objects {
		if o.Key.Name == serial {
			var rec NodeCert
			if err := json.Unmarshal(o.Value, &rec); err == nil {
				return rec, true, nil
			}
		}
	}
	return NodeCert{}, false, nil
}

// Entries is every revocation entry in the store, serials first.
func Entries(ctx context.Context, st store.Interface) ([]Entry, error) {
	lr, err := st.List(ctx, store.ListOptions{Resource: Resource})
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(lr.Objects))
	for _, o := range lr.Objects {
		var e Entry
		if json.Unmarshal(o.Value, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// Prune deletes the revocation entries and node certificate records whose
// certificates expired before now: an expired certificate fails
// verification anyway. It returns how many it deleted.
func Prune(ctx context.Context, st store.Interface, now time.Time) (int, error) {
	n := 0
	for _, res := range []string{Resource, NodeCertsResource} {
		lr, err := st.List(ctx, store.ListOptions{Resource: res})
		if err != nil {
			return n, fmt.Errorf("prune %s: %w", res, err)
		}
		for _, o := range lr.Objects {
			var v struct {
				NotAfter time.Time `json:"notAfter"`
			}
			if json.Unmarshal(o.Value, &v) != nil || v.NotAfter.IsZero() || !now.After(v.NotAfter) {
				continue
			}
			r, err := st.Txn(ctx, store.Txn{ID: txnID(),
				Conds: []store.Cond{{Kind: store.RevisionIs, Key: o.Key, Revision: o.Revision}},
				Ops:   []store.Op{{Kind: store.Delete, Key: o.Key}}})
			if err != nil {
				return n, fmt.Errorf("prune %s: %w", o.Key, err)
			}
			if r.Succeeded {
				n++
			}
		}
	}
	return n, nil
}
