package api

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericrequest "k8s.io/apiserver/pkg/endpoints/request"
)

// requestInfos parses a request into kube-apiserver's RequestInfo: verb,
// API group, version, resource, subresource, namespace and name.
var requestInfos = &genericrequest.RequestInfoFactory{
	APIPrefixes:          sets.NewString("api", "apis"),
	GrouplessAPIPrefixes: sets.NewString("api"),
}

// attributesFor are the authorization attributes of r made by u.
func attributesFor(r *http.Request, u user.Info) (authorizer.Attributes, error) {
	info, err := requestInfos.NewRequestInfo(r)
	if err != nil {
		return nil, err
	}
	rec := &authorizer.AttributesRecord{
		User: u, Verb: info.Verb, Namespace: info.Namespace, APIGroup: info.APIGroup, APIVersion: info.APIVersion,
		Resource: info.Resource, Subresource: info.Subresource, Name: info.Name,
		ResourceRequest: info.IsResourceRequest, Path: info.Path,
	}
	if fs := r.URL.Query().Get("fieldSelector"); fs != "" && (info.Verb == "list" || info.Verb == "watch") {
		// As kube-apiserver's AuthorizeWithSelectors: the node authorizer
		// lets a node list its own pods only (spec.nodeName=NODE).
		sel, err := fields.ParseSelector(fs)
		if err == nil {
			rec.FieldSelectorRequirements = sel.Requirements()
		}
		rec.FieldSelectorParsingErr = err
	}
	if ls := r.URL.Query().Get("labelSelector"); ls != "" && (info.Verb == "list" || info.Verb == "watch") {
		// a node lists its own local-path volumes (by their node label)
		sel, err := labels.Parse(ls)
		if err == nil {
			rec.LabelSelectorRequirements, _ = sel.Requirements()
		}
		rec.LabelSelectorParsingErr = err
	}
	return rec, nil
}

// authorize decides attrs: system:masters may do everything (as
// kube-apiserver's privileged-group authorizer decides before any other),
// then Config.Authorizer; without one, every authenticated user may do
// everything.
func (s *Server) authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	for _, g := range attrs.GetUser().GetGroups() {
		if g == GroupMasters {
			return authorizer.DecisionAllow, "", nil
		}
	}
	if s.cfg.Authorizer == nil {
		return authorizer.DecisionAllow, "", nil
	}
	return s.cfg.Authorizer.Authorize(ctx, attrs)
}

// authzMiddleware authorizes every authenticated request; a denied one is
// kube-apiserver's 403 Status ("User "x" cannot list resource "secrets" in
// API group "" in the namespace "default"").
func (s *Server) authzMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := userFrom(r)
		if u == nil { // a public path
			next.ServeHTTP(w, r)
			return
		}
		attrs, err := attributesFor(r, u)
		if err != nil {
			s.writeError(w, r, errBadRequest("%v", err))
			return
		}
		d, reason, err := s.authorize(r.Context(), attrs)
		if d != authorizer.DecisionAllow {
			if err != nil {
				s.log.Warn("authorization error", "user", u.GetName(), "error", err)
				if reason == "" {
					reason = err.Error()
				}
			}
			s.writeError(w, r, forbidden(attrs, reason))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// forbidden is kube-apiserver's 403 for a denied request, worded as its
// responsewriters.ForbiddenStatusError words it (that package would link
// CEL and OpenTelemetry into weir for one sentence).
func forbidden(attrs authorizer.Attributes, reason string) *apierrors.StatusError {
	u := attrs.GetUser().GetName()
	var msg string
	if !attrs.IsResourceRequest() {
		msg = fmt.Sprintf("User %q cannot %s path %q", u, attrs.GetVerb(), attrs.GetPath())
	} else {
		res := attrs.GetResource()
		if sub := attrs.GetSubresource(); sub != "" {
			res += "/" + sub
		}
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q", u, attrs.GetVerb(), res, attrs.GetAPIGroup())
		if ns := attrs.GetNamespace(); ns != "" {
			msg += fmt.Sprintf(" in the namespace %q", ns)
		} else {
			msg += " at the cluster scope"
		}
	}
	if reason != "" {
		msg += ": " + reason
	}
	gr := schema.GroupResource{Group: attrs.GetAPIGroup(), Resource: attrs.GetResource()}
	if !attrs.IsResourceRequest() {
		gr = schema.GroupResource{}
	}
	err := apierrors.NewForbidden(gr, attrs.GetName(), fmt.Errorf("%s", msg))
	if !attrs.IsResourceRequest() {
		// kube-apiserver says "forbidden: User ..." for paths.
		err.ErrStatus.Message = "forbidden: " + msg
	}
	return err
}
