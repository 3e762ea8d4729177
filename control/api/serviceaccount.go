package api

import (
	"context"
	"errors"
	"time"

	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store"
)

// ServiceAccountTokens configures ServiceAccount tokens: the TokenRequest
// subresource (serviceaccounts/token), ServiceAccount admission of pods
// (serviceaccount_admission.go) and the issuer's OpenID documents
// (serviceaccount_oidc.go). Verification is ServiceAccountAuthenticator,
// which the embedder appends to Config.Authenticators.
type ServiceAccountTokens struct {
	Keys *satoken.Keys // the cluster's signing key (required)
	// Issuer is the iss of every token (default satoken.DefaultIssuer).
	Issuer string
	// Audiences are the API's own audiences: a token's default audience
	// and what the authenticator accepts (default: the issuer).
	Audiences []string
	// MaxExpiration caps a requested lifetime (default 48h).
	MaxExpiration time.Duration
	// JWKSURI is the jwks_uri of the discovery document (default: the
	// issuer + /openid/v1/jwks).
	JWKSURI string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (t *ServiceAccountTokens) withDefaults() *ServiceAccountTokens {
	c := *t
	if c.Issuer == "" {
		c.Issuer = satoken.DefaultIssuer
	}
	if len(c.Audiences) == 0 {
		c.Audiences = []string{c.Issuer}
	}
	if c.MaxExpiration <= 0 {
		c.MaxExpiration = satoken.DefaultMaxExpiration
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &c
}

// saTokens is the server's token configuration, nil when tokens are off.
func (s *Server) saTokens() *ServiceAccountTokens {
	if s.cfg.ServiceAccountTokens == nil || s.cfg.ServiceAccountTokens.Keys == nil {
		return nil
	}
	return s.cfg.ServiceAccountTokens.withDefaults()
}

// objectReader reads stored objects by kind for the token code, which
// runs both inside the server and in the authenticator (before it).
type objectReader struct {
	st  store.Interface
	reg *registry
}

// get reads one object: a local read first, and a linearizable one when
// that finds nothing (the object may be brand new here) or when fresh is
// set.
func (o objectReader) get(ctx context.Context, plural, ns, name string, fresh bool) (object, error) {
	res := o.reg.get("", "v1", plural)
	if res == nil {
		return nil, errNoRoute()
	}
	v, err := o.st.Get(ctx, res.key(ns, name), store.ReadOptions{Stale: !fresh})
	if !fresh && errors.Is(err, store.ErrNotFound) {
		v, err = o.st.Get(ctx, res.key(ns, name), store.ReadOptions{})
	}
	if err != nil {
		return nil, storeError(err, res, name)
	}
	obj, err := res.decodeStored(v)
	if err != nil {
		return nil, errInternal(err)
	}
	return obj, nil
}
