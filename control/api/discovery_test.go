package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"github.com/weirnet/weir/vocab/manifest"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	var vs metav1.APIVersions
	e.req("GET", "/api", nil).must(t, 200).into(t, &vs)
	if len(vs.Versions) != 1 || vs.Versions[0] != "v1" {
		t.Fatalf("/api: %+v", vs)
	}
	var groups metav1.APIGroupList
	e.req("GET", "/apis", nil).must(t, 200).into(t, &groups)
	gotGroups := map[string]string{}
	for _, g := range groups.Groups {
		gotGroups[g.Name] = g.PreferredVersion.GroupVersion
	}
	for g, gv := range map[string]string{"apps": "apps/v1", "batch": "batch/v1", "discovery.k8s.io": "discovery.k8s.io/v1"} {
		if gotGroups[g] != gv {
			t.Errorf("/apis: group %s -> %q, want %s", g, gotGroups[g], gv)
		}
	}
	var g metav1.APIGroup
	e.req("GET", "/apis/apps", nil).must(t, 200).into(t, &g)
	if g.Name != "apps" || g.PreferredVersion.Version != "v1" {
		t.Fatalf("/apis/apps: %+v", g)
	}
	// every served kind appears in its group version with verbs and names
	lists := map[string]metav1.APIResourceList{}
	for _, k := range manifest.Kinds() {
		l, ok := lists[k.GroupVersionPath()]
		if !ok {
			e.req("GET", k.GroupVersionPath(), nil).must(t, 200).into(t, &l)
			lists[k.GroupVersionPath()] = l
		}
		found := false
		for _, r := range l.APIResources {
			if r.Name != k.Plural {
				continue
			}
			found = true
			if r.Kind != k.Kind || r.Namespaced != k.Namespaced || r.SingularName != k.Singular ||
				strings.Join(r.ShortNames, ",") != strings.Join(k.ShortNames, ",") || !strings.Contains(strings.Join(r.Verbs, ","), "watch") {
				t.Errorf("%s: discovery entry %+v", k.Kind, r)
			}
		}
		if !found {
			t.Errorf("%s missing from %s", k.Plural, k.GroupVersionPath())
		}
	}
	subs := map[string]bool{}
	for _, r := range lists["/api/v1"].APIResources {
		subs[r.Name] = true
	}
	for _, s := range []string{"pods/status", "pods/binding", "nodes/status", "services/status"} {
		if !subs[s] {
			t.Errorf("/api/v1 lacks %s", s)
		}
	}
	e.req("GET", "/apis/apps/v2", nil).status(t, 404, "NotFound")
	e.req("GET", "/apis/nope", nil).status(t, 404, "NotFound")
	e.req("POST", "/api", "{}").status(t, 405, "MethodNotAllowed")
}

func TestHealthVersionMetrics(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		if r := e.reqToken("", "GET", p, nil).must(t, 200); string(r.body) != "ok" {
			t.Errorf("%s: %q", p, r.body)
		}
	}
	var v version.Info
	e.reqToken("", "GET", "/version", nil).must(t, 200).into(t, &v)
	if v.Major != "1" || v.Minor == "" || !strings.HasPrefix(v.GitVersion, "v1.") {
		t.Fatalf("/version: %+v", v)
	}
	if v.GoVersion != "" || v.Compiler != "" || v.Platform != "" || v.GitCommit != "" || v.BuildDate != "" {
		t.Errorf("/version without a token shows build details: %+v", v)
	}
	e.req("GET", "/api/v1/namespaces/default/configmaps/nope", nil).must(t, 404)
	m := e.req("GET", "/metrics", nil).must(t, 200)
	for _, want := range []string{
		`weir_api_requests_total{code="404",resource="configmaps",verb="get"} 1`,
		`weir_api_request_duration_seconds_bucket{resource="configmaps",verb="get"`,
		"weir_api_watches 0",
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// the store closing makes the member unready
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.reqToken("", "GET", "/readyz", nil)
	if r.code != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("readyz after the store closed: %d %s", r.code, r.body)
	}
}

func TestMembersAndSnapshot(t *testing.T) {
	e := newEnv(t)
	var ml struct {
		Members []struct {
			Name   string `json:"name"`
			Voter  bool   `json:"voter"`
			Leader bool   `json:"leader"`
		} `json:"members"`
	}
	e.req("GET", "/weir/v1/members", nil).must(t, 200).into(t, &ml)
	if len(ml.Members) != 1 || ml.Members[0].Name != "m1" || !ml.Members[0].Leader || !ml.Members[0].Voter {
		t.Fatalf("members %+v", ml)
	}
	e.req("POST", cmPath, `{"metadata":{"name":"in-snapshot"}}`).must(t, 201)
	r, err := http.NewRequest("GET", e.http.URL+"/weir/v1/snapshot", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+testToken)
	res, err := e.http.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("snapshot: HTTP %d, %v", res.StatusCode, err)
	}
	if res.Header.Get("Content-Type") != "application/octet-stream" || atoi(t, res.Header.Get("X-Weir-Revision")) < 1 || len(data) == 0 {
		t.Fatalf("snapshot headers %v, %d bytes", res.Header, len(data))
	}
	if !strings.Contains(string(data), "in-snapshot") {
		t.Error("snapshot does not contain the object written before it")
	}
	e.req("POST", "/weir/v1/snapshot", "").status(t, 405, "MethodNotAllowed")
	e.req("GET", "/weir/v1/nothing", nil).status(t, 404, "NotFound")
	st := e.req("DELETE", "/weir/v1/members/nobody", nil)
	if st.code < 400 {
		t.Fatalf("removing an unknown member: HTTP %d %s", st.code, st.body)
	}
	var s metav1.Status
	st.into(t, &s)
	if s.Kind != "Status" || s.Message == "" {
		t.Fatalf("removing an unknown member answered %s", st.body)
	}
}
