package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericrequest "k8s.io/apiserver/pkg/endpoints/request"
)

// impersonation is one thing a request asks to act as: kube-apiserver's
// impersonation filter checks each with the `impersonate` verb.
type impersonation struct {
	resource  string // users, serviceaccounts, groups, userextras, uids
	group     string // "" or authentication.k8s.io
	namespace string // of a ServiceAccount
	name      string
	extraKey  string // of a userextras
}

// impersonationsOf parses the Impersonate-* headers as kube-apiserver
// does: a user named system:serviceaccount:NS:NAME is that ServiceAccount;
// groups, extras and a UID need a user.
func impersonationsOf(h http.Header) ([]impersonation, error) {
	var out []impersonation
	hasUser := false
	if u := h.Get(authnv1.ImpersonateUserHeader); u != "" {
		hasUser = true
		if ns, name, err := serviceaccount.SplitUsername(u); err == nil {
			out = append(out, impersonation{resource: "serviceaccounts", namespace: ns, name: name})
		} else {
			out = append(out, impersonation{resource: "users", name: u})
		}
	}
	others := false
	for _, g := range h.Values(authnv1.ImpersonateGroupHeader) {
		others = true
		out = append(out, impersonation{resource: "groups", name: g})
	}
	for k, vs := range h {
		if !strings.HasPrefix(k, authnv1.ImpersonateUserExtraHeaderPrefix) {
			continue
		}
		others = true
		key := strings.ToLower(k[len(authnv1.ImpersonateUserExtraHeaderPrefix):])
		if unescaped, err := url.PathUnescape(key); err == nil {
			key = unescaped
		}
		for _, v := range vs {
			out = append(out, impersonation{resource: "userextras", group: authnv1.GroupName, extraKey: key, name: v})
		}
	}
	if uid := h.Get(authnv1.ImpersonateUIDHeader); uid != "" {
		others = true
		out = append(out, impersonation{resource: "uids", group: authnv1.GroupName, name: uid})
	}
	if others && !hasUser {
		return nil, fmt.Errorf("requested %v without impersonating a user", describeImpersonations(out))
	}
	return out, nil
}

func describeImpersonations(ims []impersonation) string {
	var parts []string
	for _, im := range ims {
		parts = append(parts, im.resource+"/"+im.name)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// impersonateMiddleware is kube-apiserver's impersonation filter, between
// authentication and authorization: the authenticated user must be
// allowed to `impersonate` every user, ServiceAccount, group, extra and
// UID the Impersonate-* headers name (403 otherwise); the request then
// goes on as the impersonated user. As in kube, an impersonated user
// without explicit groups gets system:authenticated (a ServiceAccount
// also its system:serviceaccounts groups), and the headers are removed.
func (s *Server) impersonateMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestor := userFrom(r)
		if requestor == nil {
			next.ServeHTTP(w, r)
			return
		}
		ims, err := impersonationsOf(r.Header)
		if err != nil {
			s.writeError(w, r, errInternal(err))
			return
		}
		if len(ims) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		groupsGiven := len(r.Header.Values(authnv1.ImpersonateGroupHeader)) > 0
		var name, uid string
		groups := []string{}
		extra := map[string][]string{}
		for _, im := range ims {
			attrs := &authorizer.AttributesRecord{User: requestor, Verb: "impersonate", APIGroup: im.group,
				Resource: im.resource, Namespace: im.namespace, Name: im.name, ResourceRequest: true}
			switch im.resource {
			case "serviceaccounts":
				attrs.APIVersion = "v1"
				name = serviceaccount.MakeUsername(im.namespace, im.name)
				if !groupsGiven {
					groups = serviceaccount.MakeGroupNames(im.namespace)
				}
			case "users":
				attrs.APIVersion = "v1"
				name = im.name
			case "groups":
				attrs.APIVersion = "v1"
				groups = append(groups, im.name)
			case "userextras":
				attrs.APIVersion, attrs.Subresource = "v1", im.extraKey
				extra[im.extraKey] = append(extra[im.extraKey], im.name)
			case "uids":
				attrs.APIVersion = "v1"
				uid = im.name
			}
			d, reason, err := s.authorize(r.Context(), attrs)
			if d != authorizer.DecisionAllow {
				if err != nil && reason == "" {
					reason = err.Error()
				}
				s.writeError(w, r, forbidden(attrs, reason))
				return
			}
		}
		marker, skip := user.AllAuthenticated, []string{user.AllAuthenticated, user.AllUnauthenticated}
		if name == user.Anonymous {
			marker, skip = user.AllUnauthenticated, []string{user.AllUnauthenticated}
		}
		add := true
		for _, g := range groups {
			for _, s := range skip {
				add = add && g != s
			}
		}
		if add {
			groups = append(groups, marker)
		}
		if len(extra) == 0 {
			extra = nil
		}
		as := &user.DefaultInfo{Name: name, UID: uid, Groups: groups, Extra: extra}
		s.log.Debug("impersonation", "user", requestor.GetName(), "as", name, "groups", groups)
		r.Header.Del(authnv1.ImpersonateUserHeader)
		r.Header.Del(authnv1.ImpersonateGroupHeader)
		r.Header.Del(authnv1.ImpersonateUIDHeader)
		for k := range r.Header {
			if strings.HasPrefix(k, authnv1.ImpersonateUserExtraHeaderPrefix) {
				r.Header.Del(k)
			}
		}
		next.ServeHTTP(w, r.WithContext(genericrequest.WithUser(r.Context(), as)))
	})
}
