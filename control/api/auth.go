package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	genericrequest "k8s.io/apiserver/pkg/endpoints/request"
)

// publicPaths are served without credentials: probes and the version.
var publicPaths = map[string]bool{"/healthz": true, "/livez": true, "/readyz": true, "/version": true}

// The identity of the cluster token's holder, and the groups kube-apiserver
// gives special meaning (user.SystemPrivilegedGroup is system:masters).
const (
	AdminUser          = "weir:admin"
	GroupMasters       = user.SystemPrivilegedGroup
	GroupAuthenticated = user.AllAuthenticated
)

// userFrom is the authenticated user of a request (nil on public paths).
func userFrom(r *http.Request) user.Info { return userOf(r.Context()) }

// userOf is the authenticated (or impersonated) user of a request's
// context.
func userOf(ctx context.Context) user.Info {
	u, _ := genericrequest.UserFrom(ctx)
	return u
}

// authMiddleware authenticates every request but the public paths, as
// kube-apiserver's union of authenticators does, in this order: a client
// certificate signed by the cluster CA (Config.ClientCAs) for client auth
// is the user named by its CN, in the groups named by its O; the cluster
// token (Config.Token) is AdminUser in system:masters; then each of
// Config.Authenticators. Anything else — no credential, a wrong token, a
// certificate the cluster CA did not sign without a valid token — is a
// 401 Status. Every authenticated user is also in system:authenticated.
// The cluster token is compared as a SHA-256 digest in constant time, so
// neither content nor length leaks through timing.
func (s *Server) authMiddleware(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.Token))
	chain := append([]authenticator.Request{authenticator.RequestFunc(s.certUser),
		authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
			tok, ok := bearer(r)
			got := sha256.Sum256([]byte(tok))
			match := subtle.ConstantTimeCompare(got[:], want[:])
			if s.cfg.Tokens != nil { // rotatable: the tokens accepted now
				match = 0
				for _, t := range s.cfg.Tokens() {
					w := sha256.Sum256([]byte(t))
					match |= subtle.ConstantTimeCompare(got[:], w[:])
				}
			}
			if !ok || match != 1 {
				return nil, false, nil
			}
			return &authenticator.Response{User: &user.DefaultInfo{Name: AdminUser, Groups: []string{GroupMasters}}}, true, nil
		})}, s.cfg.Authenticators...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		var u user.Info
		for _, a := range chain {
			resp, ok, err := a.AuthenticateRequest(r)
			if err != nil {
				s.log.Debug("authentication failed", "error", err, "remote", r.RemoteAddr)
			}
			if ok && err == nil && resp != nil && resp.User != nil {
				u = withAuthenticated(resp.User)
				break
			}
		}
		if u == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="weir"`)
			s.writeError(w, r, errUnauthorized())
			return
		}
		// The credential is spent: it does not travel further (to node
		// APIs through proxies, say).
		r.Header.Del("Authorization")
		next.ServeHTTP(w, r.WithContext(genericrequest.WithUser(r.Context(), u)))
	})
}

// bearer is the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	return tok, ok && tok != ""
}

// withAuthenticated adds system:authenticated to u's groups, as
// kube-apiserver's group adder does.
func withAuthenticated(u user.Info) user.Info {
	groups := u.GetGroups()
	for _, g := range groups {
		if g == GroupAuthenticated {
			return u
		}
	}
	return &user.DefaultInfo{Name: u.GetName(), UID: u.GetUID(), Extra: u.GetExtra(),
		Groups: append(append([]string(nil), groups...), GroupAuthenticated)}
}

// certUser is the user of a verified client certificate; not ok when the
// request has none or one the cluster CA does not vouch for.
func (s *Server) certUser(r *http.Request) (*authenticator.Response, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || s.cfg.ClientCAs == nil {
		return nil, false, nil
	}
	pool := s.cfg.ClientCAs()
	if pool == nil {
		return nil, false, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || leaf.Subject.CommonName == "" {
		return nil, false, nil
	}
	if err := s.certRevoked(r, leaf); err != nil {
		return nil, false, err
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: leaf.Subject.CommonName,
		Groups: append([]string(nil), leaf.Subject.Organization...)}}, true, nil
}

// errUnauthorized is kube-apiserver's 401 for a request without a valid
// credential.
func errUnauthorized() *apierrors.StatusError {
	return apierrors.NewUnauthorized("send 'Authorization: Bearer <token>' with a valid token " +
		"(`weir kubeconfig` prints a kubeconfig that does), or a client certificate signed by the cluster CA")
}
