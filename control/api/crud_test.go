package api_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// kindCase is one served kind with a minimal valid manifest.
type kindCase struct {
	collection string // collection URL
	manifest   string // YAML
}

var kindCases = map[string]kindCase{
	"Namespace": {"/api/v1/namespaces", `apiVersion: v1
kind: Namespace
metadata: {name: crud-ns}`},
	"Node": {"/api/v1/nodes", `apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDR: 10.244.1.0/24}`},
	"Pod": {"/api/v1/namespaces/default/pods", `apiVersion: v1
kind: Pod
metadata: {name: p1}
spec:
  containers: [{name: c, image: "busybox:1.36", ports: [{containerPort: 8080}]}]`},
	"Service": {"/api/v1/namespaces/default/services", `apiVersion: v1
kind: Service
metadata: {name: s1}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]`},
	"Endpoints": {"/api/v1/namespaces/default/endpoints", `apiVersion: v1
kind: Endpoints
metadata: {name: s1}
subsets: [{addresses: [{ip: 10.244.1.5}], ports: [{port: 8080}]}]`},
	"ServiceAccount": {"/api/v1/namespaces/default/serviceaccounts", `apiVersion: v1
kind: ServiceAccount
metadata: {name: default}`},
	"ConfigMap": {"/api/v1/namespaces/default/configmaps", `apiVersion: v1
kind: ConfigMap
metadata: {name: cm1}
data: {key: value}`},
	"Secret": {"/api/v1/namespaces/default/secrets", `apiVersion: v1
kind: Secret
metadata: {name: sec1}
stringData: {password: hunter2}`},
	"Event": {"/api/v1/namespaces/default/events", `apiVersion: v1
kind: Event
metadata: {name: ev1}
involvedObject: {kind: Pod, name: p1, namespace: default}
reason: Scheduled
message: assigned
type: Normal`},
	"PersistentVolume": {"/api/v1/persistentvolumes", `apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /srv/pv1}`},
	"PersistentVolumeClaim": {"/api/v1/namespaces/default/persistentvolumeclaims", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}`},
	"StorageClass": {"/apis/storage.k8s.io/v1/storageclasses", `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: weir.dev/local-path
volumeBindingMode: WaitForFirstConsumer`},
	"EndpointSlice": {"/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s1-abc, labels: {kubernetes.io/service-name: s1}}
addressType: IPv4
endpoints: [{addresses: [10.244.1.5]}]
ports: [{port: 8080}]`},
	"Deployment": {"/apis/apps/v1/namespaces/default/deployments", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`},
	"ReplicaSet": {"/apis/apps/v1/namespaces/default/replicasets", `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`},
	"DaemonSet": {"/apis/apps/v1/namespaces/default/daemonsets", `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: nginx}]}`},
	"StatefulSet": {"/apis/apps/v1/namespaces/default/statefulsets", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: nginx}]}`},
	"ControllerRevision": {"/apis/apps/v1/namespaces/default/controllerrevisions", `apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: agent-1}
revision: 1
data: {spec: {template: {metadata: {labels: {app: agent}}}}}`},
	"Lease": {"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: n1}
spec: {holderIdentity: n1, leaseDurationSeconds: 40, renewTime: "2026-01-02T03:04:05.000000Z"}`},
	"CronJob": {"/apis/batch/v1/namespaces/default/cronjobs", `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]`},
	"Job": {"/apis/batch/v1/namespaces/default/jobs", `apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]`},
}

// TestCRUDEveryKind runs create, get, list, watch, update (fresh and
// stale), delete and get-after-delete for every served kind.
func TestCRUDEveryKind(t *testing.T) {
	e := newEnv(t)
	for kind, c := range kindCases {
		t.Run(kind, func(t *testing.T) { crud(t, e, c) })
	}
}

func crud(t *testing.T, e *env, c kindCase) {
	created := e.req("POST", c.collection, c.manifest, "Content-Type: application/yaml").must(t, http.StatusCreated).obj(t)
	name, rv := str(created, "metadata", "name"), str(created, "metadata", "resourceVersion")
	if rv == "" || str(created, "metadata", "uid") == "" || str(created, "metadata", "creationTimestamp") == "" {
		t.Fatalf("server-owned metadata missing: %v", created["metadata"])
	}
	if g, _ := path(created, "metadata", "generation").(float64); g != 1 {
		t.Errorf("generation = %v, want 1", path(created, "metadata", "generation"))
	}
	item := c.collection + "/" + name
	got := e.req("GET", item, nil).must(t, http.StatusOK).obj(t)
	if str(got, "metadata", "resourceVersion") != rv {
		t.Errorf("GET resourceVersion %s, want %s", str(got, "metadata", "resourceVersion"), rv)
	}
	checkListed(t, e, c.collection, name, rv)

	w := e.openWatch(c.collection + "?watch=true&resourceVersion=" + rv)
	got["metadata"].(map[string]any)["labels"] = map[string]any{"updated": "yes", "kubernetes.io/service-name": "s1"}
	updated := e.req("PUT", item, got).must(t, http.StatusOK).obj(t)
	newRV := str(updated, "metadata", "resourceVersion")
	if atoi(t, newRV) <= atoi(t, rv) || str(updated, "metadata", "labels", "updated") != "yes" {
		t.Fatalf("update: resourceVersion %s -> %s, labels %v", rv, newRV, path(updated, "metadata", "labels"))
	}
	if str(updated, "metadata", "uid") != str(created, "metadata", "uid") {
		t.Error("update changed the uid")
	}
	e.req("PUT", item, got).status(t, http.StatusConflict, "Conflict") // got still carries rv

	e.req("DELETE", item, nil).must(t, http.StatusOK)
	e.req("GET", item, nil).status(t, http.StatusNotFound, "NotFound")
	if ev := w.nextNonBookmark(); ev.Type != "MODIFIED" || ev.rv() != newRV || ev.name() != name {
		t.Fatalf("first watch event %s %s rv %s, want MODIFIED %s rv %s", ev.Type, ev.name(), ev.rv(), name, newRV)
	}
	ev := w.nextNonBookmark()
	if ev.Type == "MODIFIED" && str(ev.Object, "status", "phase") == "Terminating" {
		ev = w.nextNonBookmark() // namespaces terminate before they go
	}
	if ev.Type != "DELETED" || ev.name() != name || atoi(t, ev.rv()) <= atoi(t, newRV) {
		t.Fatalf("second watch event %s %s rv %s, want DELETED after %s", ev.Type, ev.name(), ev.rv(), newRV)
	}
}

func checkListed(t *testing.T, e *env, collection, name, rv string) {
	t.Helper()
	var list struct {
		Kind     string `json:"kind"`
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []map[string]any `json:"items"`
	}
	e.req("GET", collection, nil).must(t, http.StatusOK).into(t, &list)
	if !strings.HasSuffix(list.Kind, "List") || atoi(t, list.Metadata.ResourceVersion) < atoi(t, rv) {
		t.Fatalf("list kind %s revision %s (object at %s)", list.Kind, list.Metadata.ResourceVersion, rv)
	}
	for _, it := range list.Items {
		if str(it, "metadata", "name") == name {
			if str(it, "metadata", "resourceVersion") != rv {
				t.Errorf("listed resourceVersion %s, want %s", str(it, "metadata", "resourceVersion"), rv)
			}
			return
		}
	}
	t.Fatalf("%s not in the list of %s", name, collection)
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("resourceVersion %q is not a number", s)
	}
	return n
}

// TestYAMLResponse asks for YAML and gets it.
func TestYAMLResponse(t *testing.T) {
	e := newEnv(t)
	r := e.req("GET", "/api/v1/namespaces/default", nil, "Accept: application/yaml").must(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("Content-Type %q", ct)
	}
	var m map[string]any
	if err := yaml.Unmarshal(r.body, &m); err != nil || str(m, "metadata", "name") != "default" || m["kind"] != "Namespace" {
		t.Fatalf("YAML body %s: %v", r.body, err)
	}
	pb := e.req("GET", "/api/v1/namespaces/default", nil, "Accept: application/vnd.kubernetes.protobuf").must(t, http.StatusOK)
	if ct := pb.header.Get("Content-Type"); ct != "application/vnd.kubernetes.protobuf" || !bytes.HasPrefix(pb.body, []byte("k8s\x00")) {
		t.Fatalf("protobuf answer %q %q", ct, pb.body)
	}
}
