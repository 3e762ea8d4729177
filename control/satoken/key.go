package satoken

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/weirnet/weir/control/store"
)

// KeyRecord is where the signing key lives: next to the cluster CA
// (control/nodestream's "_nodestream/ca"), in the same shape (JSON with a
// PEM key), so that whatever protects the CA record at rest protects it.
var KeyRecord = store.Key{Resource: "_nodestream", Name: "serviceaccount-signing-key"}

// record is the stored form of the key set: KeyPEM signs; Previous are
// the keys it replaced, each verifying until its RetireAt. A record
// written before rotation existed has KeyPEM only.
type record struct {
	KeyPEM   []byte
	Previous []previous `json:",omitempty"`
}

// previous is a replaced key: its public half and when it stops verifying.
type previous struct {
	PublicPEM []byte
	RetireAt  time.Time
}

// Key is the cluster's ServiceAccount token signing key.
type Key struct {
	priv *rsa.PrivateKey
	kid  string
}

// NewKey makes a fresh RSA-2048 key.
func NewKey() (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("satoken: generate signing key: %w", err)
	}
	return newKey(priv)
}

func newKey(priv *rsa.PrivateKey) (*Key, error) {
	kid, err := keyID(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Key{priv: priv, kid: kid}, nil
}

// ParseKey reads a key from PEM (PKCS#1 or PKCS#8).
func ParseKey(pemBytes []byte) (*Key, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("satoken: signing key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return newKey(k)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("satoken: parse signing key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("satoken: signing key is a %T, want RSA", k)
	}
	return newKey(rk)
}

// PEM is the private key in PKCS#1 PEM.
func (k *Key) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.priv)})
}

// ID is the key ID tokens carry in their header ("kid").
func (k *Key) ID() string { return k.kid }

// Public is the verification key.
func (k *Key) Public() *rsa.PublicKey { return &k.priv.PublicKey }

// keyID is kube-apiserver's key ID: the unpadded base64url SHA-256 of the
// public key's PKIX DER.
func keyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("satoken: marshal public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// PublicKey is a key that verifies tokens: the signing key's public half,
// or a replaced key until RetireAt (zero for the signing key).
type PublicKey struct {
	ID       string
	Key      *rsa.PublicKey
	RetireAt time.Time
}

// KeySet is the cluster's signing key and every key that still verifies.
type KeySet struct {
	Signing  *Key
	Previous []PublicKey // replaced keys, oldest first, retired ones included
}

// Verifying is every key that verifies at now: the signing key first,
// then the replaced keys not yet retired.
func (s *KeySet) Verifying(now time.Time) []PublicKey {
	out := []PublicKey{{ID: s.Signing.kid, Key: s.Signing.Public()}}
	for _, p := range s.Previous {
		if now.Before(p.RetireAt) {
			out = append(out, p)
		}
	}
	return out
}

// Lookup is the key with ID kid that verifies at now.
func (s *KeySet) Lookup(kid string, now time.Time) (PublicKey, bool) {
	for _, p := range s.Verifying(now) {
		if p.ID == kid {
			return p, true
		}
	}
	return PublicKey{}, false
}

func decodeSet(val []byte) (*KeySet, error) {
	var rec record
	if err := json.Unmarshal(val, &rec); err != nil {
		return nil, fmt.Errorf("satoken: decode signing key record: %w", err)
	}
	k, err := ParseKey(rec.KeyPEM)
	if err != nil {
		return nil, err
	}
	set := &KeySet{Signing: k}
	for _, p := range rec.Previous {
		pub, err := parsePublic(p.PublicPEM)
		if err != nil {
			return nil, err
		}
		id, err := keyID(pub)
		if err != nil {
			return nil, err
		}
		set.Previous = append(set.Previous, PublicKey{ID: id, Key: pub, RetireAt: p.RetireAt})
	}
	return set, nil
}

func publicPEM(pub *rsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func parsePublic(b []byte) (*rsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("satoken: replaced key is not PEM")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("satoken: parse replaced key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("satoken: replaced key is a %T, want RSA", k)
	}
	return rk, nil
}

// EnsureKey returns the cluster's signing key, creating it when the
// cluster has none.
func EnsureKey(ctx context.Context, st store.Interface) (*Key, error) {
	s, err := EnsureKeySet(ctx, st)
	if err != nil {
		return nil, err
	}
	return s.Signing, nil
}

// EnsureKeySet returns the cluster's key set, creating its signing key
// when the cluster has none. A local (stale) read is tried first, so
// members that have the record answer without a leader.
func EnsureKeySet(ctx context.Context, st store.Interface) (*KeySet, error) {
	return ensureKeySet(ctx, st, true)
}

func ensureKeySet(ctx context.Context, st store.Interface, stale bool) (*KeySet, error) {
	for i := 0; i < 5; i++ {
		o, err := st.Get(ctx, KeyRecord, store.ReadOptions{Stale: stale})
		if errors.Is(err, store.ErrNotFound) {
			o, err = st.Get(ctx, KeyRecord, store.ReadOptions{})
		}
		if err == nil {
			return decodeSet(o.Value)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("satoken: read signing key: %w", err)
		}
		k, err := NewKey()
		if err != nil {
			return nil, err
		}
		val, _ := json.Marshal(record{KeyPEM: k.PEM()})
		res, err := st.Txn(ctx, store.Txn{ID: string(uuid.NewUUID()), Conds: []store.Cond{{Kind: store.MustNotExist, Key: KeyRecord}},
			Ops: []store.Op{{Kind: store.Put, Key: KeyRecord, Value: val}}})
		if err != nil {
			return nil, fmt.Errorf("satoken: store signing key: %w", err)
		}
		if res.Succeeded {
			return &KeySet{Signing: k}, nil
		}
	}
	return nil, errors.New("satoken: could not create or read the signing key")
}

// RotateResult is what Rotate did: the new signing key, the keys that
// keep verifying until their retirement, and the retired keys it removed
// from the record.
type RotateResult struct {
	KeyID    string
	Previous []Retiring
	Dropped  []string
}

// Retiring is a replaced key that verifies until RetireAt.
type Retiring struct {
	ID       string
	RetireAt time.Time
}

// Rotate makes a new signing key, as kube-apiserver does with several
// --service-account-key-file keys: the new key signs from now on, the key
// it replaces keeps verifying until now+overlap (the caller passes the
// longest token lifetime it issues plus the members' cache refresh), and
// replaced keys past their retirement leave the record. The write is
// conditional on the record read, so concurrent rotations do not lose a
// key.
func Rotate(ctx context.Context, st store.Interface, now time.Time, overlap time.Duration) (RotateResult, error) {
	for i := 0; i < 5; i++ {
		cur, err := EnsureKeySet(ctx, st)
		if err != nil {
			return RotateResult{}, err
		}
		o, err := st.Get(ctx, KeyRecord, store.ReadOptions{})
		if err != nil {
			return RotateResult{}, fmt.Errorf("satoken: read signing key: %w", err)
		}
		if cur, err = decodeSet(o.Value); err != nil {
			return RotateResult{}, err
		}
		k, err := NewKey()
		if err != nil {
			return RotateResult{}, err
		}
		res := RotateResult{KeyID: k.kid}
		rec := record{KeyPEM: k.PEM()}
		old := append(append([]PublicKey(nil), cur.Previous...),
			PublicKey{ID: cur.Signing.kid, Key: cur.Signing.Public(), RetireAt: now.Add(overlap)})
		for _, p := range old {
			if !now.Before(p.RetireAt) {
				res.Dropped = append(res.Dropped, p.ID)
				continue
			}
			rec.Previous = append(rec.Previous, previous{PublicPEM: publicPEM(p.Key), RetireAt: p.RetireAt.UTC()})
			res.Previous = append(res.Previous, Retiring{ID: p.ID, RetireAt: p.RetireAt})
		}
		val, _ := json.Marshal(rec)
		_, err = store.Update(ctx, st, KeyRecord, val, o.Revision)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return RotateResult{}, fmt.Errorf("satoken: store the new signing key: %w", err)
		}
		return res, nil
	}
	return RotateResult{}, errors.New("satoken: the signing key kept changing during the rotation; try again")
}

// DefaultRefresh is how long a member serves its cached key set before it
// reads the record again (a token with a key ID it does not know makes it
// read at once, at most once a second).
const DefaultRefresh = 10 * time.Second

// Keys is a member's cache of the key set: loaded (or created) from the
// store at first use, read again (locally) when older than Refresh, so a
// rotation reaches every member within Refresh. Safe for concurrent use.
type Keys struct {
	st store.Interface
	// Refresh is the cache lifetime (default DefaultRefresh).
	Refresh time.Duration
	mu      sync.Mutex
	set     *KeySet
	loaded  time.Time
	forced  time.Time // last read for an unknown key ID
}

// NewKeys caches the key set of the cluster whose store is st.
func NewKeys(st store.Interface) *Keys { return &Keys{st: st} }

// StaticKeys serves one fixed key (tests, tools).
func StaticKeys(k *Key) *Keys { return &Keys{set: &KeySet{Signing: k}} }

// Get returns the signing key.
func (c *Keys) Get(ctx context.Context) (*Key, error) {
	s, err := c.Set(ctx)
	if err != nil {
		return nil, err
	}
	return s.Signing, nil
}

// Set returns the key set, read from the store when the cache is older
// than Refresh.
func (c *Keys) Set(ctx context.Context) (*KeySet, error) {
	return c.load(ctx, c.refresh(), true)
}

// Reload reads the key set from the store now, as the leader has it
// (after a rotation).
func (c *Keys) Reload(ctx context.Context) (*KeySet, error) { return c.load(ctx, 0, false) }

func (c *Keys) refresh() time.Duration {
	if c.Refresh > 0 {
		return c.Refresh
	}
	return DefaultRefresh
}

// load returns the cached set when it is younger than maxAge (or the
// store cannot be read and a set is cached), else reads the record
// (stale: this member's copy; else a current read through the leader).
func (c *Keys) load(ctx context.Context, maxAge time.Duration, stale bool) (*KeySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set != nil && (c.st == nil || time.Since(c.loaded) < maxAge) {
		return c.set, nil
	}
	if c.st == nil {
		return nil, errors.New("satoken: no signing key")
	}
	s, err := ensureKeySet(ctx, c.st, stale)
	if err != nil {
		if c.set != nil {
			return c.set, nil // keep serving the last known set
		}
		return nil, err
	}
	c.set, c.loaded = s, time.Now()
	return s, nil
}

// lookup is the verifying key kid at now, reading the record again
// (current, at most once a second) when the cached set does not know
// kid: a rotation shows at once, even on a follower that has not applied
// it yet.
func (c *Keys) lookup(ctx context.Context, kid string, now time.Time) (PublicKey, error) {
	s, err := c.Set(ctx)
	if err != nil {
		return PublicKey{}, err
	}
	if p, ok := s.Lookup(kid, now); ok {
		return p, nil
	}
	c.mu.Lock()
	again := time.Since(c.forced) >= time.Second
	if again {
		c.forced = time.Now()
	}
	c.mu.Unlock()
	if !again {
		return PublicKey{}, nil
	}
	if s, err = c.load(ctx, 0, false); err != nil {
		return PublicKey{}, err
	}
	p, _ := s.Lookup(kid, now)
	return p, nil
}
