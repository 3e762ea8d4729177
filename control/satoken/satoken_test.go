package satoken

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

func TestEnsureKeyOncePerCluster(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	a, err := EnsureKey(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKeys(st).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != b.ID() || a.priv.D.Cmp(b.priv.D) != 0 {
		t.Fatalf("a second EnsureKey made another key: %s vs %s", a.ID(), b.ID())
	}
	// The record has the CA record's shape: JSON with a PEM key.
	o, err := st.Get(ctx, KeyRecord, storeRead())
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string][]byte
	if err := json.Unmarshal(o.Value, &rec); err != nil || !strings.Contains(string(rec["KeyPEM"]), "RSA PRIVATE KEY") {
		t.Fatalf("record %s: %v", o.Value, err)
	}
}

func testVerifier(t *testing.T) (*Key, *Verifier, time.Time) {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	return k, &Verifier{Keys: StaticKeys(k), Issuer: DefaultIssuer, Audiences: []string{DefaultIssuer, "api"},
		Now: func() time.Time { return now }}, now
}

func binding() Binding {
	return Binding{Namespace: "ns1", ServiceAccount: Ref{Name: "sa1", UID: "sa-uid"}, Audiences: []string{"api"},
		Expiration: time.Hour, Pod: &Ref{Name: "p1", UID: "pod-uid"}, Node: &Ref{Name: "n1", UID: "node-uid"}}
}

func TestMintVerify(t *testing.T) {
	k, v, now := testVerifier(t)
	ctx := context.Background()
	tok, _, err := Mint(k, DefaultIssuer, binding(), now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "system:serviceaccount:ns1:sa1" || c.Kubernetes.Pod.UID != "pod-uid" || c.Kubernetes.Node.Name != "n1" ||
		c.Expiry != now.Add(time.Hour).Unix() || c.ID == "" {
		t.Fatalf("claims %+v", c)
	}
	// kube's claim names, as JSON.
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	for _, want := range []string{`"kubernetes.io":{"namespace":"ns1","serviceaccount":{"name":"sa1","uid":"sa-uid"},"pod":{"name":"p1","uid":"pod-uid"}`,
		`"aud":["api"]`, `"sub":"system:serviceaccount:ns1:sa1"`, `"iss":"` + DefaultIssuer + `"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("claims %s lack %s", raw, want)
		}
	}

	cases := []struct {
		name string
		tok  func() string
		want error
	}{
		{"expired", func() string { tk, _, _ := Mint(k, DefaultIssuer, binding(), now.Add(-2*time.Hour)); return tk }, ErrExpired},
		{"not yet valid", func() string { tk, _, _ := Mint(k, DefaultIssuer, binding(), now.Add(2*time.Hour)); return tk }, ErrInvalid},
		{"wrong audience", func() string {
			b := binding()
			b.Audiences = []string{"vault"}
			tk, _, _ := Mint(k, DefaultIssuer, b, now)
			return tk
		}, ErrAudience},
		{"wrong issuer", func() string { tk, _, _ := Mint(k, "https://other", binding(), now); return tk }, ErrNotOurs},
		{"other key", func() string {
			k2, _ := NewKey()
			tk, _, _ := Mint(k2, DefaultIssuer, binding(), now)
			return tk
		}, ErrInvalid},
		{"other key, same kid", func() string {
			k2, _ := NewKey()
			k2.kid = k.kid
			tk, _, _ := Mint(k2, DefaultIssuer, binding(), now)
			return tk
		}, ErrInvalid},
		{"tampered claims", func() string {
			p := strings.Split(tok, ".")
			c, _ := Parse(tok)
			c.Kubernetes.ServiceAccount.Name = "admin"
			c.Subject = Username("ns1", "admin")
			b, _ := json.Marshal(c)
			return p[0] + "." + b64(b) + "." + p[2]
		}, ErrInvalid},
		{"alg none", func() string {
			p := strings.Split(tok, ".")
			return b64([]byte(`{"alg":"none"}`)) + "." + p[1] + "."
		}, ErrInvalid},
		{"not a jwt", func() string { return "abc" }, ErrNotOurs},
		{"garbage parts", func() string { return "a.b.c" }, ErrNotOurs},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := v.Verify(ctx, tc.tok()); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestJWKSVerifies checks the token with nothing but the published key
// set, as an outside OIDC consumer would.
func TestJWKSVerifies(t *testing.T) {
	k, _, now := testVerifier(t)
	tok, _, err := Mint(k, DefaultIssuer, binding(), now)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(JWKS(k))
	var set struct {
		Keys []struct{ Kid, Kty, Alg, Use, N, E string }
	}
	if err := json.Unmarshal(doc, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s: %v", doc, err)
	}
	jk := set.Keys[0]
	n, _ := base64.RawURLEncoding.DecodeString(jk.N)
	e, _ := base64.RawURLEncoding.DecodeString(jk.E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	p := strings.Split(tok, ".")
	var h struct{ Alg, Kid string }
	hb, _ := base64.RawURLEncoding.DecodeString(p[0])
	_ = json.Unmarshal(hb, &h)
	if h.Kid != jk.Kid || h.Alg != "RS256" || jk.Kty != "RSA" || jk.Use != "sig" {
		t.Fatalf("header %+v, jwk %+v", h, jk)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(p[2])
	sum := sha256.Sum256([]byte(p[0] + "." + p[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the JWKS key does not verify the token: %v", err)
	}
	d := NewDiscovery(DefaultIssuer, "")
	if d.JWKSURI != DefaultIssuer+"/openid/v1/jwks" {
		t.Fatalf("discovery %+v", d)
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseKey(k.PEM())
	if err != nil || k2.ID() != k.ID() {
		t.Fatalf("ParseKey: %v (%s vs %s)", err, k2.ID(), k.ID())
	}
	if _, err := ParseKey([]byte("nope")); err == nil {
		t.Fatal("ParseKey accepted garbage")
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJ9.AAAA")
	k, err := NewKey()
	if err != nil {
		f.Fatal(err)
	}
	v := &Verifier{Keys: StaticKeys(k), Issuer: DefaultIssuer, Audiences: []string{DefaultIssuer}}
	f.Fuzz(func(t *testing.T, tok string) {
		if c, err := v.Verify(context.Background(), tok); err == nil {
			t.Fatalf("a fuzzed token verified: %+v", c)
		}
	})
}

func storeRead() store.ReadOptions { return store.ReadOptions{} }

// TestRotate: after Rotate a token the old key signed still verifies, a
// new token carries the new kid, the JWKS lists both keys during the
// overlap, and once the old key retires its tokens fail while the new
// key's verify; a second rotation drops the retired key from the record.
func TestRotate(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	now := time.Now()
	clock := now
	keys := NewKeys(st)
	v := &Verifier{Keys: keys, Issuer: DefaultIssuer, Audiences: []string{"api"}, Now: func() time.Time { return clock }}
	old, err := keys.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := binding()
	b.Expiration = 2 * time.Hour
	oldTok, _, err := Mint(old, DefaultIssuer, b, now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Rotate(ctx, st, now, 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if res.KeyID == old.ID() || len(res.Previous) != 1 || res.Previous[0].ID != old.ID() || !res.Previous[0].RetireAt.Equal(now.Add(3*time.Hour)) {
		t.Fatalf("rotate: %+v (old %s)", res, old.ID())
	}
	// Another member's cache (this one) still holds the old set: the
	// unknown kid of a new token makes it read the record again.
	other := NewKeys(st)
	other.Refresh = time.Hour
	if k, err := other.Get(ctx); err != nil || k.ID() != res.KeyID {
		t.Fatalf("a fresh cache signs with %v %v, want %s", k.ID(), err, res.KeyID)
	}
	newTok, _, err := Mint(mustGet(t, other), DefaultIssuer, b, now)
	if err != nil {
		t.Fatal(err)
	}
	if h := tokenKid(t, newTok); h != res.KeyID {
		t.Fatalf("new token kid %s, want %s", h, res.KeyID)
	}
	for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("%s token during the overlap: %v", name, err)
		}
	}
	set, err := keys.Set(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jw := set.JWKS(clock)
	if len(jw.Keys) != 2 || jw.Keys[0].Kid != res.KeyID || jw.Keys[1].Kid != old.ID() {
		t.Fatalf("JWKS during the overlap: %+v", jw.Keys)
	}

	clock = now.Add(3*time.Hour + time.Second) // the old key has retired
	b.Expiration = 4 * time.Hour
	later, _, _ := Mint(mustGet(t, other), DefaultIssuer, b, now)
	if _, err := v.Verify(ctx, later); err != nil {
		t.Fatalf("new key's token after the old key retired: %v", err)
	}
	stale, _, _ := Mint(old, DefaultIssuer, b, now) // an old-key token still in its lifetime
	if _, err := v.Verify(ctx, stale); !errors.Is(err, ErrInvalid) {
		t.Fatalf("old key's token after retirement: %v, want ErrInvalid", err)
	}
	if jw := set.JWKS(clock); len(jw.Keys) != 1 || jw.Keys[0].Kid != res.KeyID {
		t.Fatalf("JWKS after retirement: %+v", jw.Keys)
	}
	res2, err := Rotate(ctx, st, clock, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Dropped) != 1 || res2.Dropped[0] != old.ID() || len(res2.Previous) != 1 || res2.Previous[0].ID != res.KeyID {
		t.Fatalf("second rotation: %+v", res2)
	}
}

func mustGet(t *testing.T, k *Keys) *Key {
	t.Helper()
	key, err := k.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func tokenKid(t *testing.T, tok string) string {
	t.Helper()
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h struct{ Kid string }
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}
