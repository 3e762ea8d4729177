package satoken

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Defaults of an Issuer's fields left zero.
const (
	DefaultIssuer = "https://kubernetes.default.svc.cluster.local"
	// MinExpiration is the shortest token kube's TokenRequest grants
	// (10 minutes); DefaultExpiration is its default (1 hour).
	MinExpiration        = 10 * time.Minute
	DefaultExpiration    = time.Hour
	DefaultMaxExpiration = 48 * time.Hour
	// Leeway is the clock skew allowed on a token's nbf and iat.
	Leeway = time.Minute
)

// Ref names an object a token is bound to, or its ServiceAccount.
type Ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Private are the "kubernetes.io" claims, as kube-apiserver writes them.
type Private struct {
	Namespace      string `json:"namespace,omitempty"`
	ServiceAccount *Ref   `json:"serviceaccount,omitempty"`
	Pod            *Ref   `json:"pod,omitempty"`
	Secret         *Ref   `json:"secret,omitempty"`
	Node           *Ref   `json:"node,omitempty"`
	WarnAfter      *int64 `json:"warnafter,omitempty"`
}

// Claims are a ServiceAccount token's claims.
type Claims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   Audience `json:"aud"`
	Expiry     int64    `json:"exp"`
	IssuedAt   int64    `json:"iat"`
	NotBefore  int64    `json:"nbf"`
	ID         string   `json:"jti,omitempty"`
	Kubernetes Private  `json:"kubernetes.io"`
}

// Audience is the "aud" claim: one string or a list (RFC 7519 4.1.3);
// written as a list, as kube-apiserver does.
type Audience []string

func (a *Audience) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// Username is the user a ServiceAccount authenticates as.
func Username(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// SplitUsername is the namespace and name of a ServiceAccount user name.
func SplitUsername(user string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	return namespace, name, ok && namespace != "" && name != "" && !strings.Contains(name, ":")
}

// header is a JWS protected header.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// Sign makes a compact RS256 JWS of c with k.
func Sign(k *Key, c *Claims) (string, error) {
	h, _ := json.Marshal(header{Alg: "RS256", Kid: k.kid})
	p, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("satoken: encode claims: %w", err)
	}
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("satoken: sign: %w", err)
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Errors of Verify. ErrNotOurs means the token is not a ServiceAccount
// token of this issuer (not a JWT, another issuer): an authenticator
// passes it on to the next one rather than failing.
var (
	ErrNotOurs  = errors.New("satoken: not a token of this issuer")
	ErrInvalid  = errors.New("satoken: invalid token")
	ErrExpired  = errors.New("satoken: token has expired")
	ErrAudience = errors.New("satoken: token audiences are not accepted")
)

// Parse decodes a compact JWS without checking anything: the header and
// the claims. Not ok when tok is not a three-part JWT with JSON parts.
func Parse(tok string) (*Claims, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, false
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c Claims
	if json.Unmarshal(p, &c) != nil {
		return nil, false
	}
	return &c, true
}

// Verifier checks tokens of one issuer.
type Verifier struct {
	Keys   *Keys
	Issuer string
	// Audiences the verifier accepts: a token must name at least one.
	Audiences []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verify checks tok's signature (RS256 with the verifying key its kid
// names: the signing key or a replaced one not yet retired), issuer,
// audience and validity, and that it names a ServiceAccount, and returns
// its claims.
func (v *Verifier) Verify(ctx context.Context, tok string) (*Claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, ErrNotOurs
	}
	c, ok := Parse(tok)
	if !ok || c.Issuer != v.Issuer {
		return nil, ErrNotOurs
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	if h.Alg != "RS256" {
		return nil, fmt.Errorf("%w: algorithm %q, want RS256", ErrInvalid, h.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature encoding", ErrInvalid)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	// The key is picked by kid; a token without one is tried against
	// every verifying key, as kube-apiserver does.
	var keys []PublicKey
	if h.Kid != "" {
		k, err := v.Keys.lookup(ctx, h.Kid, t)
		if err != nil {
			return nil, err
		}
		if k.Key == nil {
			return nil, fmt.Errorf("%w: unknown or retired key ID %q", ErrInvalid, h.Kid)
		}
		keys = []PublicKey{k}
	} else {
		set, err := v.Keys.Set(ctx)
		if err != nil {
			return nil, err
		}
		keys = set.Verifying(t)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !slices.ContainsFunc(keys, func(k PublicKey) bool {
		return rsa.VerifyPKCS1v15(k.Key, crypto.SHA256, sum[:], sig) == nil
	}) {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	switch {
	case c.Expiry == 0 || !t.Before(time.Unix(c.Expiry, 0)):
		return nil, ErrExpired
	case c.NotBefore != 0 && t.Add(Leeway).Before(time.Unix(c.NotBefore, 0)):
		return nil, fmt.Errorf("%w: not valid yet", ErrInvalid)
	case c.IssuedAt != 0 && t.Add(Leeway).Before(time.Unix(c.IssuedAt, 0)):
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalid)
	}
	if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(v.Audiences, a) }) {
		return nil, ErrAudience
	}
	ns, name, ok := SplitUsername(c.Subject)
	sa := c.Kubernetes.ServiceAccount
	if !ok || c.Kubernetes.Namespace != ns || sa == nil || sa.Name != name || sa.UID == "" {
		return nil, fmt.Errorf("%w: the subject and the kubernetes.io claims do not name one ServiceAccount", ErrInvalid)
	}
	return c, nil
}

// Binding is what one token is for: a ServiceAccount, the audiences, the
// lifetime and the objects it is bound to (each optional).
type Binding struct {
	Namespace      string
	ServiceAccount Ref
	Audiences      []string
	Expiration     time.Duration
	Pod, Secret    *Ref
	Node           *Ref
}

// Mint signs a token for b issued by issuer at now; it returns the token
// and its claims.
func Mint(k *Key, issuer string, b Binding, now time.Time) (string, *Claims, error) {
	if b.Namespace == "" || b.ServiceAccount.Name == "" || len(b.Audiences) == 0 || b.Expiration <= 0 {
		return "", nil, errors.New("satoken: a token needs a namespace, a ServiceAccount, audiences and a lifetime")
	}
	sa := b.ServiceAccount
	c := &Claims{Issuer: issuer, Subject: Username(b.Namespace, sa.Name), Audience: Audience(b.Audiences),
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expiry: now.Add(b.Expiration).Unix(), ID: newJTI(),
		Kubernetes: Private{Namespace: b.Namespace, ServiceAccount: &sa, Pod: b.Pod, Secret: b.Secret, Node: b.Node}}
	tok, err := Sign(k, c)
	return tok, c, err
}

func newJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
