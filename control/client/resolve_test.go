package client

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fixtureResources loads testdata/discovery.json: discovery documents in
// the order a server lists them (core, then groups).
func fixtureResources(t *testing.T) []Resource {
	t.Helper()
	data, err := os.ReadFile("testdata/discovery.json")
	if err != nil {
		t.Fatal(err)
	}
	var lists []metav1.APIResourceList
	if err := json.Unmarshal(data, &lists); err != nil {
		t.Fatal(err)
	}
	var all []Resource
	for i := range lists {
		rs, err := resourcesFromList(&lists[i])
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rs...)
	}
	return all
}

func TestResolveName(t *testing.T) {
	all := fixtureResources(t)
	for _, tt := range []struct{ in, want string }{
		{"po", "pods"}, {"pod", "pods"}, {"pods", "pods"}, {"Pod", "pods"}, {"PODS", "pods"},
		{"svc", "services"}, {"service", "services"},
		{"deploy", "deployments.apps"}, {"deployment", "deployments.apps"}, {"deployments.apps", "deployments.apps"},
		{"deploy.apps", "deployments.apps"}, {"Deployment", "deployments.apps"},
		{"ns", "namespaces"}, {"no", "nodes"}, {"node", "nodes"},
		{"ep", "endpoints"}, {"endpoints", "endpoints"},
		{"cm", "configmaps"}, {"rs", "replicasets.apps"}, {"sa", "serviceaccounts"}, {"secret", "secrets"},
		{"endpointslice", "endpointslices.discovery.k8s.io"}, {"endpointslices", "endpointslices.discovery.k8s.io"},
		{"endpointslices.discovery.k8s.io", "endpointslices.discovery.k8s.io"},
		{"jobs", "jobs.batch"}, {"job", "jobs.batch"}, {"jobs.batch", "jobs.batch"},
		// core wins over a later group with the same names
		{"ev", "events"}, {"events", "events"}, {"events.events.k8s.io", "events.events.k8s.io"},
		// no singularName in discovery: the lower-case kind stands in
		{"widget", "widgets.nosingular.example"},
	} {
		r, err := ResolveName(all, tt.in)
		if err != nil {
			t.Errorf("ResolveName(%q): %v", tt.in, err)
			continue
		}
		if r.GroupResource() != tt.want {
			t.Errorf("ResolveName(%q) = %s, want %s", tt.in, r.GroupResource(), tt.want)
		}
	}
}

func TestResolveNameDetails(t *testing.T) {
	all := fixtureResources(t)
	r, err := ResolveName(all, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if r.Group != "apps" || r.Version != "v1" || r.Kind != "Deployment" || !r.Namespaced || r.TypeName() != "deployment.apps" {
		t.Errorf("deploy = %+v", r)
	}
	r, _ = ResolveName(all, "ns")
	if r.Namespaced || r.TypeName() != "namespace" || r.GVR().String() != "/v1, Resource=namespaces" {
		t.Errorf("ns = %+v", r)
	}
	r, _ = ResolveName(all, "widget")
	if r.TypeName() != "widget.nosingular.example" {
		t.Errorf("TypeName without singularName = %q", r.TypeName())
	}
}

func TestResolveNameSkipsSubresources(t *testing.T) {
	all := fixtureResources(t)
	for _, r := range all {
		if strings.Contains(r.Name, "/") {
			t.Errorf("subresource %s kept", r.Name)
		}
	}
	if _, err := ResolveName(all, "binding"); err == nil {
		t.Error("binding (a subresource's kind) resolved")
	}
}

func TestResolveNameUnknown(t *testing.T) {
	all := fixtureResources(t)
	for _, in := range []string{"", "  ", "pdo", "pods.apps", "deploy.batch", "scale"} {
		_, err := ResolveName(all, in)
		if err == nil {
			t.Errorf("ResolveName(%q): no error", in)
			continue
		}
		if strings.TrimSpace(in) != "" && !strings.Contains(err.Error(), "known types: configmaps, deployments.apps") {
			t.Errorf("ResolveName(%q) error %q does not list the known types", in, err)
		}
	}
}

func TestResolveKind(t *testing.T) {
	all := fixtureResources(t)
	r, err := ResolveKind(all, "apps", "v1", "Deployment")
	if err != nil || r.GroupResource() != "deployments.apps" {
		t.Errorf("apps/v1 Deployment = %+v, %v", r, err)
	}
	r, err = ResolveKind(all, "", "v1", "Event")
	if err != nil || r.Group != "" {
		t.Errorf("v1 Event = %+v, %v", r, err)
	}
	_, err = ResolveKind(all, "extensions", "v1beta1", "Deployment")
	if err == nil || !strings.Contains(err.Error(), `as apiVersion "apps/v1"`) {
		t.Errorf("extensions/v1beta1 Deployment: err = %v, want a hint at apps/v1", err)
	}
	_, err = ResolveKind(all, "", "v1", "Gizmo")
	if err == nil || !strings.Contains(err.Error(), `no kind "Gizmo" in apiVersion "v1"`) {
		t.Errorf("Gizmo: err = %v", err)
	}
	if _, err := ResolveKind(all, "", "v1", "pod"); err == nil {
		t.Error("kinds are case-sensitive in manifests, as in Kubernetes; \"pod\" resolved")
	}
}
