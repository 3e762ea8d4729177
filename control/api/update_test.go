package api_test

import (
	"net/http"
	"testing"
)

const (
	podPath    = "/api/v1/namespaces/default/pods"
	deployPath = "/apis/apps/v1/namespaces/default/deployments"
)

const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}`

const deployJSON = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1"}]}}}}`

func TestStatusSubresourceAndGeneration(t *testing.T) {
	e := newEnv(t)
	d := e.req("POST", deployPath, deployJSON).must(t, 201).obj(t)
	// a status write through the main resource is ignored
	d["status"] = map[string]any{"replicas": 7}
	d["metadata"].(map[string]any)["labels"] = map[string]any{"x": "1"}
	d2 := e.req("PUT", deployPath+"/web", d).must(t, 200).obj(t)
	if path(d2, "status", "replicas") != nil || str(d2, "metadata", "labels", "x") != "1" {
		t.Fatalf("main PUT: status %v labels %v", d2["status"], path(d2, "metadata", "labels"))
	}
	if path(d2, "metadata", "generation") != float64(1) {
		t.Fatalf("label change bumped generation to %v", path(d2, "metadata", "generation"))
	}
	// the status subresource changes only status
	d2["status"] = map[string]any{"replicas": 2, "readyReplicas": 1}
	d2["spec"].(map[string]any)["replicas"] = 9
	d3 := e.req("PUT", deployPath+"/web/status", d2).must(t, 200).obj(t)
	if path(d3, "status", "readyReplicas") != float64(1) || path(d3, "spec", "replicas") != float64(2) {
		t.Fatalf("status PUT: status %v spec.replicas %v", d3["status"], path(d3, "spec", "replicas"))
	}
	// a spec change bumps generation and keeps status
	d3["spec"].(map[string]any)["replicas"] = 3
	d4 := e.req("PUT", deployPath+"/web", d3).must(t, 200).obj(t)
	if path(d4, "metadata", "generation") != float64(2) || path(d4, "status", "readyReplicas") != float64(1) {
		t.Fatalf("spec PUT: generation %v status %v", path(d4, "metadata", "generation"), d4["status"])
	}
	// an unchanged PUT writes nothing
	d5 := e.req("PUT", deployPath+"/web", d4).must(t, 200).obj(t)
	if str(d5, "metadata", "resourceVersion") != str(d4, "metadata", "resourceVersion") {
		t.Fatal("a no-op update wrote a new revision")
	}
	// creationTimestamp and uid survive an update that omits them
	bare := `{"metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}`
	d6 := e.req("PUT", deployPath+"/web", bare).must(t, 200).obj(t)
	if str(d6, "metadata", "uid") != str(d, "metadata", "uid") || str(d6, "metadata", "creationTimestamp") != str(d, "metadata", "creationTimestamp") {
		t.Fatal("update lost uid or creationTimestamp")
	}
	// immutable: the selector, and the uid
	sel := `{"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`
	e.req("PUT", deployPath+"/web", sel).status(t, 422, "Invalid")
	e.req("PUT", deployPath+"/web", `{"metadata":{"name":"web","uid":"00000000-0000-0000-0000-000000000000"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`).status(t, 422, "Invalid")
}

func TestPodUpdateRules(t *testing.T) {
	e := newEnv(t)
	p := e.req("POST", podPath, podJSON).must(t, 201).obj(t)
	if str(p, "status", "phase") != "Pending" || str(p, "spec", "restartPolicy") != "Always" {
		t.Fatalf("pod defaults: %v %v", p["status"], p["spec"])
	}
	// the image may change
	e.req("PATCH", podPath+"/p", `{"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}`, "Content-Type: application/strategic-merge-patch+json").must(t, 200)
	// other spec fields may not
	e.req("PATCH", podPath+"/p", `{"spec":{"restartPolicy":"Never"}}`, "Content-Type: application/merge-patch+json").status(t, 422, "Invalid")
	// nodeName is set through the binding subresource, once
	bind := `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"node-1"}}`
	e.req("POST", podPath+"/p/binding", bind).must(t, 201)
	got := e.req("GET", podPath+"/p", nil).must(t, 200).obj(t)
	if str(got, "spec", "nodeName") != "node-1" {
		t.Fatalf("binding did not set nodeName: %v", got["spec"])
	}
	e.req("POST", podPath+"/p/binding", bind).status(t, 409, "Conflict")
	e.req("POST", podPath+"/p/binding", `{"target":{"name":"Bad_Node"}}`).status(t, 422, "Invalid")
	e.req("POST", podPath+"/missing/binding", bind).status(t, 400, "BadRequest") // name mismatch
	e.req("POST", podPath+"/missing/binding", `{"target":{"name":"n"}}`).status(t, 404, "NotFound")
	// status: the kubelet's write
	got["status"] = map[string]any{"phase": "Running", "podIP": "10.244.1.9"}
	st := e.req("PUT", podPath+"/p/status", got).must(t, 200).obj(t)
	if str(st, "status", "phase") != "Running" {
		t.Fatalf("status update: %v", st["status"])
	}
	e.req("PATCH", podPath+"/p/status", `{"status":{"phase":"Succeeded"}}`, "Content-Type: application/merge-patch+json").must(t, 200)
}

func TestPatch(t *testing.T) {
	e := newEnv(t)
	c := e.req("POST", cmPath, `{"metadata":{"name":"p","labels":{"a":"1","b":"2"}},"data":{"k":"v","gone":"x"}}`).must(t, 201).obj(t)
	merge := "Content-Type: application/merge-patch+json"
	got := e.req("PATCH", cmPath+"/p", `{"metadata":{"labels":{"b":null,"c":"3"}},"data":{"gone":null,"new":"y"}}`, merge).must(t, 200).obj(t)
	if str(got, "metadata", "labels", "a") != "1" || path(got, "metadata", "labels", "b") != nil || str(got, "metadata", "labels", "c") != "3" ||
		path(got, "data", "gone") != nil || str(got, "data", "new") != "y" || str(got, "data", "k") != "v" {
		t.Fatalf("merge patch result %v", got)
	}
	// resourceVersion in a patch is a precondition
	stale := `{"metadata":{"resourceVersion":"` + str(c, "metadata", "resourceVersion") + `"},"data":{"k":"w"}}`
	e.req("PATCH", cmPath+"/p", stale, merge).status(t, 409, "Conflict")
	e.req("PATCH", cmPath+"/p", `{"kind":"Secret"}`, merge).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/p", `{"metadata":{"name":"renamed"}}`, merge).status(t, 422, "Invalid")
	e.req("PATCH", cmPath+"/p", `not json`, merge).status(t, 400, "BadRequest")
	e.req("PATCH", cmPath+"/missing", `{}`, merge).status(t, 404, "NotFound")
}

func TestScaleSubresource(t *testing.T) {
	e := newEnv(t)
	e.req("POST", deployPath, deployJSON).must(t, 201)
	var sc struct {
		Kind string `json:"kind"`
		Spec struct {
			Replicas int `json:"replicas"`
		} `json:"spec"`
		Status struct {
			Selector string `json:"selector"`
		} `json:"status"`
	}
	e.req("GET", deployPath+"/web/scale", nil).must(t, 200).into(t, &sc)
	if sc.Kind != "Scale" || sc.Spec.Replicas != 2 || sc.Status.Selector != "app=web" {
		t.Fatalf("scale %+v", sc)
	}
	e.req("PUT", deployPath+"/web/scale", `{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web"},"spec":{"replicas":5}}`).must(t, 200)
	e.req("PATCH", deployPath+"/web/scale", `{"spec":{"replicas":4}}`, "Content-Type: application/merge-patch+json").must(t, 200)
	d := e.req("GET", deployPath+"/web", nil).must(t, 200).obj(t)
	if path(d, "spec", "replicas") != float64(4) || path(d, "metadata", "generation") != float64(3) {
		t.Fatalf("after scaling: replicas %v generation %v", path(d, "spec", "replicas"), path(d, "metadata", "generation"))
	}
	e.req("PUT", deployPath+"/web/scale", `{"spec":{"replicas":-1}}`).status(t, 422, "Invalid")
}

func TestDryRun(t *testing.T) {
	e := newEnv(t)
	got := e.req("POST", svcPath+"?dryRun=All", svcJSON("dry", "ClusterIP", "", 0)).must(t, 201).obj(t)
	if str(got, "metadata", "uid") == "" || str(got, "spec", "type") != "ClusterIP" {
		t.Fatalf("dry-run create did not default: %v", got)
	}
	e.req("GET", svcPath+"/dry", nil).status(t, 404, "NotFound")
	e.req("POST", svcPath+"?dryRun=All", `{"metadata":{"name":"Bad"}}`).status(t, 422, "Invalid")
	e.req("POST", "/api/v1/namespaces/nope/configmaps?dryRun=All", `{"metadata":{"name":"x"}}`).status(t, 404, "NotFound")

	c := e.req("POST", cmPath, `{"metadata":{"name":"keep"},"data":{"a":"1"}}`).must(t, 201).obj(t)
	e.req("PUT", cmPath+"/keep?dryRun=All", `{"metadata":{"name":"keep"},"data":{"a":"2"}}`).must(t, 200)
	e.req("PATCH", cmPath+"/keep?dryRun=All", `{"data":{"a":"3"}}`, "Content-Type: application/merge-patch+json").must(t, 200)
	e.req("DELETE", cmPath+"/keep?dryRun=All", nil).must(t, 200)
	e.req("DELETE", cmPath+"/keep", `{"dryRun":["All"]}`).must(t, 200)
	after := e.req("GET", cmPath+"/keep", nil).must(t, 200).obj(t)
	if str(after, "data", "a") != "1" || str(after, "metadata", "resourceVersion") != str(c, "metadata", "resourceVersion") {
		t.Fatalf("dry runs wrote: %v", after)
	}
}

func TestDeletePreconditions(t *testing.T) {
	e := newEnv(t)
	c := e.req("POST", cmPath, `{"metadata":{"name":"d"}}`).must(t, 201).obj(t)
	e.req("DELETE", cmPath+"/d", `{"preconditions":{"uid":"not-the-uid"}}`).status(t, 409, "Conflict")
	e.req("DELETE", cmPath+"/d", `{"preconditions":{"resourceVersion":"1"}}`).status(t, 409, "Conflict")
	e.req("DELETE", cmPath+"/d", `{"preconditions":{"uid":"`+str(c, "metadata", "uid")+`","resourceVersion":"`+str(c, "metadata", "resourceVersion")+`"}}`).must(t, http.StatusOK)
	e.req("DELETE", cmPath+"/d", nil).status(t, 404, "NotFound")
}

func TestGenerateNameAndSecretData(t *testing.T) {
	e := newEnv(t)
	got := e.req("POST", cmPath, `{"metadata":{"generateName":"gen-"}}`).must(t, 201).obj(t)
	if n := str(got, "metadata", "name"); len(n) != len("gen-")+5 {
		t.Fatalf("generated name %q", n)
	}
	s := e.req("POST", "/api/v1/namespaces/default/secrets", `{"metadata":{"name":"s"},"stringData":{"pw":"hunter2"}}`).must(t, 201).obj(t)
	if str(s, "data", "pw") != "aHVudGVyMg==" || s["stringData"] != nil || str(s, "type") != "Opaque" {
		t.Fatalf("secret %v", s)
	}
}
