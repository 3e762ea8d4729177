package api

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"net/http"
	"strings"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// The self-review resources kubectl's `auth whoami` and `auth can-i` post:
// created, answered and never stored. They live in groups of their own,
// outside the registry of stored kinds.
const (
	authnGroup = "authentication.k8s.io"
	authzGroup = "authorization.k8s.io"
)

type reviewResource struct {
	group, plural, kind string
	namespaced          bool
}

var reviewResources = []reviewResource{
	{authnGroup, "selfsubjectreviews", "SelfSubjectReview", false},
	{authzGroup, "selfsubjectaccessreviews", "SelfSubjectAccessReview", false},
	{authzGroup, "selfsubjectrulesreviews", "SelfSubjectRulesReview", false},
	{authzGroup, "subjectaccessreviews", "SubjectAccessReview", false},
	{authzGroup, "localsubjectaccessreviews", "LocalSubjectAccessReview", true},
}

// isReviewPath reports whether p is under one of the review groups.
func isReviewPath(p string) bool {
	return strings.HasPrefix(p, "/apis/"+authnGroup+"/") || strings.HasPrefix(p, "/apis/"+authzGroup+"/") ||
		p == "/apis/"+authnGroup || p == "/apis/"+authzGroup
}

// reviewGroup is the discovery document of a review group, nil for any
// other name.
func reviewGroup(name string) *metav1.APIGroup {
	if name != authnGroup && name != authzGroup {
		return nil
	}
	gv := metav1.GroupVersionForDiscovery{GroupVersion: name + "/v1", Version: "v1"}
	return &metav1.APIGroup{TypeMeta: metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"},
		Name: name, Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv}
}

// reviewAPIResources are the review resources of group/version.
func reviewAPIResources(group, version string) []metav1.APIResource {
	var out []metav1.APIResource
	for _, rr := range reviewResources {
		if rr.group == group && version == "v1" {
			out = append(out, metav1.APIResource{Name: rr.plural, Kind: rr.kind, Namespaced: rr.namespaced, Verbs: metav1.Verbs{"create"}})
		}
	}
	return out
}

// serveReview answers the review groups: their discovery documents and
// POSTs of the reviews (201 with the status filled in): the self reviews
// and SubjectAccessReview are decided by the server's authorizer
// (system:masters first, then Config.Authorizer), the rules review lists
// Config.RuleResolver's rules. Who may post a review is the authorization
// filter's decision, as for any other resource (system:basic-user lets
// every user post the self reviews).
func (s *Server) serveReview(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) <= 3 {
		s.serveDiscovery(w, r)
		return
	}
	var rr *reviewResource
	namespace := ""
	for i := range reviewResources {
		c := &reviewResources[i]
		switch {
		case !c.namespaced && len(parts) == 4 && parts[1] == c.group && parts[2] == "v1" && parts[3] == c.plural:
			rr = c
		case c.namespaced && len(parts) == 6 && parts[1] == c.group && parts[2] == "v1" && parts[3] == "namespaces" && parts[4] != "" && parts[5] == c.plural:
			rr, namespace = c, parts[4]
		}
	}
	if rr == nil {
		s.writeError(w, r, errNoRoute())
		return
	}
	setLabels(r.Context(), "create", rr.plural)
	if r.Method != http.MethodPost {
		s.writeError(w, r, errMethodNotAllowed())
		return
	}
	data, err := s.readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u := userFrom(r)
	if u == nil { // unreachable: review paths are not public
		s.writeError(w, r, errUnauthorized())
		return
	}
	var out any
	switch rr.kind {
	case "SelfSubjectReview":
		var in authnv1.SelfSubjectReview
		if err := decodeReview(data, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		in.Status.UserInfo = authnv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
		for k, v := range u.GetExtra() {
			if in.Status.UserInfo.Extra == nil {
				in.Status.UserInfo.Extra = map[string]authnv1.ExtraValue{}
			}
			in.Status.UserInfo.Extra[k] = v
		}
		out = &in
	case "SelfSubjectAccessReview":
		var in authzv1.SelfSubjectAccessReview
		if err := decodeReview(data, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		if fe := validateReviewSpec(in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes); fe != nil {
			s.writeError(w, r, apierrors.NewInvalid(schema.GroupKind{Group: authzv1.GroupName, Kind: "SelfSubjectAccessReview"}, "", field.ErrorList{fe}))
			return
		}
		in.Status = s.accessReview(r, u, in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes)
		out = &in
	case "SubjectAccessReview":
		var in authzv1.SubjectAccessReview
		if err := decodeReview(data, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		errs := field.ErrorList{}
		if in.Spec.User == "" && len(in.Spec.Groups) == 0 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "user"), in.Spec.User, "at least one of user or group must be specified"))
		}
		if fe := validateReviewSpec(in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes); fe != nil {
			errs = append(errs, fe)
		}
		if len(errs) > 0 {
			s.writeError(w, r, apierrors.NewInvalid(schema.GroupKind{Group: authzv1.GroupName, Kind: "SubjectAccessReview"}, "", errs))
			return
		}
		subject := reviewSubject(&in.Spec)
		in.Status = s.accessReview(r, subject, in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes)
		out = &in
	case "LocalSubjectAccessReview":
		var in authzv1.LocalSubjectAccessReview
		if err := decodeReview(data, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.checkLocalReview(&in, namespace); err != nil {
			s.writeError(w, r, err)
			return
		}
		subject := reviewSubject(&in.Spec)
		in.Status = s.accessReview(r, subject, in.Spec.ResourceAttributes, nil)
		out = &in
	case "SelfSubjectRulesReview":
		var in authzv1.SelfSubjectRulesReview
		if err := decodeReview(data, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		if in.Spec.Namespace == "" {
			s.writeError(w, r, apierrors.NewBadRequest("no namespace on request"))
			return
		}
		in.Status = s.rulesReview(r, u, in.Spec.Namespace)
		out = &in
	}
	s.writeObject(w, r, http.StatusCreated, out)
}

// accessReview decides the attributes of an access review for subject,
// as kube-apiserver's (Self)SubjectAccessReview does.
func (s *Server) accessReview(r *http.Request, subject user.Info, ra *authzv1.ResourceAttributes, nra *authzv1.NonResourceAttributes) authzv1.SubjectAccessReviewStatus {
	attrs := &authorizer.AttributesRecord{User: subject}
	if ra != nil {
		version := ra.Version
		if version == "" {
			version = "*"
		}
		attrs.Verb, attrs.Namespace, attrs.APIGroup, attrs.APIVersion = ra.Verb, ra.Namespace, ra.Group, version
		attrs.Resource, attrs.Subresource, attrs.Name, attrs.ResourceRequest = ra.Resource, ra.Subresource, ra.Name, true
	} else {
		attrs.Verb, attrs.Path = nra.Verb, nra.Path
	}
	d, reason, err := s.authorize(r.Context(), attrs)
	st := authzv1.SubjectAccessReviewStatus{Allowed: d == authorizer.DecisionAllow, Denied: d == authorizer.DecisionDeny, Reason: reason}
	if err != nil {
		st.EvaluationError = err.Error()
	}
	return st
}

// rulesReview lists what u may do in namespace: Config.RuleResolver's
// rules, or everything when the server has no authorizer.
func (s *Server) rulesReview(r *http.Request, u user.Info, namespace string) authzv1.SubjectRulesReviewStatus {
	if s.cfg.RuleResolver == nil {
		return authzv1.SubjectRulesReviewStatus{
			ResourceRules:    []authzv1.ResourceRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
			NonResourceRules: []authzv1.NonResourceRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
		}
	}
	res, nonRes, incomplete, err := s.cfg.RuleResolver.RulesFor(r.Context(), u, namespace)
	st := authzv1.SubjectRulesReviewStatus{ResourceRules: []authzv1.ResourceRule{}, NonResourceRules: []authzv1.NonResourceRule{}, Incomplete: incomplete}
	for _, rr := range res {
		st.ResourceRules = append(st.ResourceRules, authzv1.ResourceRule{Verbs: rr.GetVerbs(), APIGroups: rr.GetAPIGroups(),
			Resources: rr.GetResources(), ResourceNames: rr.GetResourceNames()})
	}
	for _, nr := range nonRes {
		st.NonResourceRules = append(st.NonResourceRules, authzv1.NonResourceRule{Verbs: nr.GetVerbs(), NonResourceURLs: nr.GetNonResourceURLs()})
	}
	if err != nil {
		st.EvaluationError = err.Error()
	}
	return st
}

// reviewCodecs decode review bodies in JSON, YAML or protobuf (client-go's
// typed clients, and so kubectl, send protobuf), with or without kind and
// apiVersion.
var reviewCodecs = func() serializer.CodecFactory {
	sc := runtime.NewScheme()
	utilruntime.Must(authnv1.AddToScheme(sc))
	utilruntime.Must(authzv1.AddToScheme(sc))
	return serializer.NewCodecFactory(sc)
}()

// decodeReview decodes a review body into into and sets its kind and
// apiVersion for the answer.
func decodeReview(data []byte, into runtime.Object) error {
	if err := runtime.DecodeInto(reviewCodecs.UniversalDeserializer(), data, into); err != nil {
		return errBadRequest("decode the review: %v", err)
	}
	switch v := into.(type) {
	case *authnv1.SelfSubjectReview:
		v.TypeMeta = metav1.TypeMeta{Kind: "SelfSubjectReview", APIVersion: authnGroup + "/v1"}
	case *authzv1.SelfSubjectAccessReview:
		v.TypeMeta = metav1.TypeMeta{Kind: "SelfSubjectAccessReview", APIVersion: authzGroup + "/v1"}
	case *authzv1.SelfSubjectRulesReview:
		v.TypeMeta = metav1.TypeMeta{Kind: "SelfSubjectRulesReview", APIVersion: authzGroup + "/v1"}
	case *authzv1.SubjectAccessReview:
		v.TypeMeta = metav1.TypeMeta{Kind: "SubjectAccessReview", APIVersion: authzGroup + "/v1"}
	case *authzv1.LocalSubjectAccessReview:
		v.TypeMeta = metav1.TypeMeta{Kind: "LocalSubjectAccessReview", APIVersion: authzGroup + "/v1"}
	}
	return nil
}

// checkLocalReview validates a LocalSubjectAccessReview posted to
// namespace as kube-apiserver does: a subject, resource attributes only,
// metadata empty but for the namespace, and the request's namespace in the
// object and its attributes (each filled in when empty).
func (s *Server) checkLocalReview(in *authzv1.LocalSubjectAccessReview, namespace string) error {
	if in.Namespace == "" {
		in.Namespace = namespace
	}
	if in.Namespace != namespace {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	errs := field.ErrorList{}
	if !equality.Semantic.DeepEqual(in.ObjectMeta, metav1.ObjectMeta{Namespace: in.Namespace}) {
		errs = append(errs, field.Invalid(field.NewPath("metadata"), in.ObjectMeta, "must be empty except for namespace"))
	}
	if in.Spec.User == "" && len(in.Spec.Groups) == 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "user"), in.Spec.User, "at least one of user or group must be specified"))
	}
	if in.Spec.NonResourceAttributes != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), in.Spec.NonResourceAttributes, "disallowed on this kind of request"))
	} else if fe := validateReviewSpec(in.Spec.ResourceAttributes, nil); fe != nil {
		errs = append(errs, fe)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: authzv1.GroupName, Kind: "LocalSubjectAccessReview"}, "", errs)
	}
	if in.Spec.ResourceAttributes.Namespace == "" {
		in.Spec.ResourceAttributes.Namespace = namespace
	}
	if in.Spec.ResourceAttributes.Namespace != namespace {
		return apierrors.NewBadRequest("spec.resourceAttributes.namespace must match namespace: " + namespace)
	}
	return nil
}

// validateReviewSpec is kube-apiserver's check that an access review
// names exactly one kind of attributes.
func validateReviewSpec(ra *authzv1.ResourceAttributes, nra *authzv1.NonResourceAttributes) *field.Error {
	p := field.NewPath("spec")
	switch {
	case ra == nil && nra == nil:
		return field.Invalid(p.Child("resourceAttributes"), nra, "exactly one of nonResourceAttributes or resourceAttributes must be specified")
	case ra != nil && nra != nil:
		return field.Invalid(p.Child("nonResourceAttributes"), nra, "cannot be specified in combination with resourceAttributes")
	}
	return nil
}

// reviewSubject is the identity a (Local)SubjectAccessReview asks about.
func reviewSubject(spec *authzv1.SubjectAccessReviewSpec) *user.DefaultInfo {
	subject := &user.DefaultInfo{Name: spec.User, UID: spec.UID, Groups: spec.Groups}
	for k, v := range spec.Extra {
		if subject.Extra == nil {
			subject.Extra = map[string][]string{}
		}
		subject.Extra[k] = v
	}
	return subject
}
