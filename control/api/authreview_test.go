package api_test

import (
	"bytes"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// TestSelfReviews: the three self reviews answer 201 for the token's user
// (weir:admin, allowed everything), in JSON or protobuf bodies, appear in
// discovery, and refuse other verbs, bad bodies and no credentials.
func TestSelfReviews(t *testing.T) {
	e := newEnv(t)
	const authn, authz = "/apis/authentication.k8s.io/v1", "/apis/authorization.k8s.io/v1"

	var who authnv1.SelfSubjectReview
	e.req("POST", authn+"/selfsubjectreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`,
		"Content-Type: application/json").must(t, 201).into(t, &who)
	if who.Kind != "SelfSubjectReview" || who.Status.UserInfo.Username != "weir:admin" ||
		len(who.Status.UserInfo.Groups) != 2 || who.Status.UserInfo.Groups[0] != "system:masters" {
		t.Errorf("SelfSubjectReview: %+v", who)
	}

	// kubectl (client-go's typed clients) sends protobuf.
	sc := runtime.NewScheme()
	if err := authzv1.AddToScheme(sc); err != nil {
		t.Fatal(err)
	}
	var pb bytes.Buffer
	in := &authzv1.SelfSubjectAccessReview{TypeMeta: metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SelfSubjectAccessReview"},
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{Verb: "create", Resource: "pods", Namespace: "default"}}}
	if err := protobuf.NewSerializer(sc, sc).Encode(in, &pb); err != nil {
		t.Fatal(err)
	}
	var access authzv1.SelfSubjectAccessReview
	e.req("POST", authz+"/selfsubjectaccessreviews", pb.Bytes(), "Content-Type: application/vnd.kubernetes.protobuf").must(t, 201).into(t, &access)
	if !access.Status.Allowed || access.Spec.ResourceAttributes == nil || access.Spec.ResourceAttributes.Resource != "pods" {
		t.Errorf("SelfSubjectAccessReview: %+v", access)
	}
	e.req("POST", authz+"/selfsubjectaccessreviews", `{"spec":{}}`, "Content-Type: application/json").status(t, 422, metav1.StatusReasonInvalid)

	var rules authzv1.SelfSubjectRulesReview
	e.req("POST", authz+"/selfsubjectrulesreviews", `{"spec":{"namespace":"default"}}`, "Content-Type: application/json").must(t, 201).into(t, &rules)
	if len(rules.Status.ResourceRules) != 1 || rules.Status.ResourceRules[0].Verbs[0] != "*" || len(rules.Status.NonResourceRules) != 1 {
		t.Errorf("SelfSubjectRulesReview: %+v", rules.Status)
	}

	e.req("GET", authn+"/selfsubjectreviews", nil).status(t, 405, metav1.StatusReasonMethodNotAllowed)
	e.req("POST", authn+"/selfsubjectreviews", `{not json`, "Content-Type: application/json").status(t, 400, metav1.StatusReasonBadRequest)
	e.req("POST", authn+"/nothing", `{}`).status(t, 404, metav1.StatusReasonNotFound)
	e.reqToken("", "POST", authn+"/selfsubjectreviews", `{}`).status(t, 401, metav1.StatusReasonUnauthorized)

	var groups metav1.APIGroupList
	e.req("GET", "/apis", nil).must(t, 200).into(t, &groups)
	found := map[string]bool{}
	for _, g := range groups.Groups {
		found[g.Name] = g.PreferredVersion.Version == "v1"
	}
	if !found["authentication.k8s.io"] || !found["authorization.k8s.io"] {
		t.Errorf("/apis lacks the review groups: %+v", groups.Groups)
	}
	var group metav1.APIGroup
	e.req("GET", "/apis/authorization.k8s.io", nil).must(t, 200).into(t, &group)
	if group.Name != "authorization.k8s.io" || group.PreferredVersion.GroupVersion != "authorization.k8s.io/v1" {
		t.Errorf("/apis/authorization.k8s.io: %+v", group)
	}
	var list metav1.APIResourceList
	e.req("GET", authz, nil).must(t, 200).into(t, &list)
	names := map[string]string{}
	for _, r := range list.APIResources {
		names[r.Name] = r.Kind
	}
	if names["selfsubjectaccessreviews"] != "SelfSubjectAccessReview" || names["selfsubjectrulesreviews"] != "SelfSubjectRulesReview" {
		t.Errorf("%s: %+v", authz, list.APIResources)
	}
	e.req("GET", authn, nil).must(t, 200).into(t, &list)
	if len(list.APIResources) != 1 || list.APIResources[0].Name != "selfsubjectreviews" || list.APIResources[0].Verbs[0] != "create" {
		t.Errorf("%s: %+v", authn, list.APIResources)
	}
}
