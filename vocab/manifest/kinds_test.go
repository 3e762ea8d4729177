package manifest

import "testing"

func TestLookup(t *testing.T) {
	cases := map[string]string{
		"po": "Pod", "pods": "Pod", "Pod": "Pod", "svc": "Service", "deploy": "Deployment",
		"deployments.apps": "Deployment", "ns": "Namespace", "no": "Node", "ep": "Endpoints",
		"endpointslices": "EndpointSlice", "jobs.batch": "Job", "cm": "ConfigMap",
	}
	for in, want := range cases {
		k, ok := Lookup(in)
		if !ok || k.Kind != want {
			t.Errorf("Lookup(%q) = %v %v, want %s", in, k.Kind, ok, want)
		}
	}
	if _, ok := Lookup("widgets"); ok {
		t.Error("Lookup(widgets) found a kind")
	}
}

func TestPaths(t *testing.T) {
	d, _ := ForObject("apps/v1", "Deployment")
	if got := d.ObjectPath("ns1", "web"); got != "/apis/apps/v1/namespaces/ns1/deployments/web" {
		t.Errorf("deployment path %s", got)
	}
	n, _ := Lookup("nodes")
	if got := n.ObjectPath("ignored", "n1"); got != "/api/v1/nodes/n1" {
		t.Errorf("node path %s", got)
	}
	p, _ := Lookup("pods")
	if got := p.CollectionPath(""); got != "/api/v1/pods" {
		t.Errorf("all-namespace pods path %s", got)
	}
	if _, ok := ForObject("v1", "Deployment"); ok {
		t.Error("ForObject matched a kind in the wrong group")
	}
}
