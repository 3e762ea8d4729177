package api

import (
	"net/http"

	"github.com/weirnet/weir/control/satoken"
)

// serveOIDC answers the ServiceAccount issuer's OpenID discovery
// documents, as kube-apiserver does: the provider configuration at
// /.well-known/openid-configuration and the key set at /openid/v1/jwks
// (GET only, JSON; public keys only). They need an authenticated
// request like every non-health path; the authorizer decides who may read
// them (kube binds system:service-account-issuer-discovery). 404 when
// tokens are off.
func (s *Server) serveOIDC(w http.ResponseWriter, r *http.Request) {
	cfg := s.saTokens()
	if cfg == nil {
		s.writeError(w, r, errNoRoute())
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, r, errMethodNotAllowed())
		return
	}
	if r.URL.Path == satoken.DiscoveryPath {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		s.writeJSON(w, r, http.StatusOK, satoken.NewDiscovery(cfg.Issuer, cfg.JWKSURI))
		return
	}
	keys, err := cfg.Keys.Set(r.Context())
	if err != nil {
		s.writeError(w, r, errUnavailable("the ServiceAccount signing key is not available yet: "+err.Error()))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	data, err := jsonMarshal(keys.JWKS(cfg.Now())) // every key that verifies
	if err != nil {
		s.writeError(w, r, errInternal(err))
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(data, '\n'))
}
