package api_test

import (
	"fmt"
	"testing"

	"github.com/weirnet/weir/control/api"
)

func TestNamespaceLifecycle(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.ServiceCIDR = "10.100.0.0/29" })
	// the system namespaces exist after Bootstrap, which is idempotent
	for _, ns := range []string{"default", "kube-system", "kube-public"} {
		got := e.req("GET", "/api/v1/namespaces/"+ns, nil).must(t, 200).obj(t)
		if str(got, "status", "phase") != "Active" || str(got, "metadata", "labels", "kubernetes.io/metadata.name") != ns {
			t.Fatalf("namespace %s: %v", ns, got)
		}
	}
	if err := e.server.Bootstrap(t.Context()); err != nil {
		t.Fatalf("second Bootstrap: %v", err)
	}
	e.req("POST", "/api/v1/namespaces", `{"metadata":{"name":"Bad_NS"}}`).status(t, 422, "Invalid")
	e.req("POST", "/api/v1/namespaces", `{"metadata":{"name":"dotted.name"}}`).status(t, 422, "Invalid")
	e.req("POST", "/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}`).must(t, 201)
	base := "/api/v1/namespaces/team"
	for i := range 3 {
		e.req("POST", base+"/configmaps", cm(fmt.Sprintf("c%d", i), "")).must(t, 201)
	}
	e.req("POST", base+"/pods", podJSON).must(t, 201)
	e.req("POST", "/apis/apps/v1/namespaces/team/deployments", deployJSON).must(t, 201)
	ip := str(e.req("POST", base+"/services", svcJSON("s", "ClusterIP", "10.100.0.3", 0)).must(t, 201).obj(t), "spec", "clusterIP")
	e.req("POST", cmPath, cm("survivor", "")).must(t, 201)

	w := e.openWatch(base + "/configmaps?watch=true&resourceVersion=1")
	for range 3 {
		w.next() // the three ADDED
	}
	e.req("DELETE", base, nil).must(t, 200)
	for range 3 {
		if ev := w.next(); ev.Type != "DELETED" {
			t.Fatalf("namespace deletion: got %s for %s, want DELETED", ev.Type, ev.name())
		}
	}
	e.req("GET", base, nil).status(t, 404, "NotFound")
	for _, p := range []string{base + "/configmaps", base + "/pods", base + "/services", "/apis/apps/v1/namespaces/team/deployments"} {
		var list struct{ Items []any }
		e.req("GET", p, nil).must(t, 200).into(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("%s still has %d objects", p, len(list.Items))
		}
	}
	e.req("GET", cmPath+"/survivor", nil).must(t, 200)
	e.req("POST", base+"/configmaps", cm("late", "")).status(t, 404, "NotFound")
	// the service's address was released with it
	e.req("POST", svcPath, svcJSON("reuse", "ClusterIP", ip, 0)).must(t, 201)
	e.req("DELETE", base, nil).status(t, 404, "NotFound")
}

func TestListSelectorsAndRevisions(t *testing.T) {
	e := newEnv(t)
	mk := func(name, node, labels string) {
		body := fmt.Sprintf(`{"metadata":{"name":%q,"labels":{%s}},"spec":{"nodeName":%q,"containers":[{"name":"c","image":"busybox"}]}}`, name, labels, node)
		e.req("POST", podPath, body).must(t, 201)
	}
	mk("a", "n1", `"app":"web","tier":"front"`)
	mk("b", "n2", `"app":"web"`)
	mk("c", "n1", `"app":"db"`)
	names := func(query string) string {
		var list struct {
			Items []map[string]any `json:"items"`
		}
		e.req("GET", podPath+"?"+query, nil).must(t, 200).into(t, &list)
		out := ""
		for _, it := range list.Items {
			out += str(it, "metadata", "name")
		}
		return out
	}
	cases := map[string]string{
		"labelSelector=app%3Dweb":                                  "ab",
		"labelSelector=app%3Dweb,tier":                             "a",
		"labelSelector=app+in+(db,web),!tier":                      "bc",
		"labelSelector=app!%3Dweb":                                 "c",
		"fieldSelector=spec.nodeName%3Dn1":                         "ac",
		"fieldSelector=spec.nodeName%3Dn1,metadata.name!%3Dc":      "a",
		"fieldSelector=status.phase%3DPending":                     "abc",
		"fieldSelector=status.phase%3DRunning":                     "",
		"fieldSelector=metadata.namespace%3Ddefault":               "abc",
		"labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn2": "b",
	}
	for q, want := range cases {
		if got := names(q); got != want {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
	e.req("GET", svcPath+"?fieldSelector=spec.nodeName%3Dn1", nil).status(t, 400, "BadRequest")

	// a list at an exact past revision
	c := e.req("POST", cmPath, `{"metadata":{"name":"v"},"data":{"n":"1"}}`).must(t, 201).obj(t)
	rv := str(c, "metadata", "resourceVersion")
	e.req("PUT", cmPath+"/v", `{"metadata":{"name":"v"},"data":{"n":"2"}}`).must(t, 200)
	var list struct {
		Metadata struct{ ResourceVersion string }
		Items    []map[string]any
	}
	e.req("GET", cmPath+"?resourceVersion="+rv+"&resourceVersionMatch=Exact", nil).must(t, 200).into(t, &list)
	if list.Metadata.ResourceVersion != rv || len(list.Items) != 1 || str(list.Items[0], "data", "n") != "1" {
		t.Fatalf("list at %s: %+v", rv, list)
	}
	e.req("GET", cmPath+"?resourceVersion=999999&resourceVersionMatch=Exact", nil).status(t, 504, "Timeout")
	e.req("GET", cmPath+"?resourceVersionMatch=Exact", nil).status(t, 422, "Invalid") // as kube: ListOptions is invalid
	e.req("GET", cmPath+"?resourceVersion=0", nil).must(t, 200)
}

func TestEventFieldSelectors(t *testing.T) {
	e := newEnv(t)
	evPath := "/api/v1/namespaces/default/events"
	for i, obj := range []string{"p1", "p2"} {
		body := fmt.Sprintf(`{"metadata":{"name":"e%d"},"involvedObject":{"kind":"Pod","name":%q,"namespace":"default"},"reason":"Started","type":"Normal"}`, i, obj)
		e.req("POST", evPath, body).must(t, 201)
	}
	var list struct{ Items []map[string]any }
	e.req("GET", evPath+"?fieldSelector=involvedObject.name%3Dp2,involvedObject.kind%3DPod", nil).must(t, 200).into(t, &list)
	if len(list.Items) != 1 || str(list.Items[0], "metadata", "name") != "e1" {
		t.Fatalf("events for p2: %v", list.Items)
	}
	e.req("GET", "/api/v1/namespaces?fieldSelector=status.phase%3DActive", nil).must(t, 200)
	e.req("GET", "/api/v1/namespaces/default/secrets?fieldSelector=type%3DOpaque", nil).must(t, 200)
}
