package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const stsPath = "/apis/apps/v1/namespaces/default/statefulsets"

// TestStatefulSetDefaultsAndValidation: kube-apiserver's apps/v1
// StatefulSet defaults (OrderedReady, RollingUpdate with partition 0, one
// replica, ten revisions, Retain claims, the pod defaults) and its
// validation with the field of each error, including the spec fields an
// update may not change; a maxUnavailable weir does not implement is
// refused, not ignored; status and scale are subresources.
func TestStatefulSetDefaultsAndValidation(t *testing.T) {
	e := newEnv(t)
	ss := func(name, spec string) string {
		return `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"` + name + `"},"spec":{` + spec + `}}`
	}
	tpl := `"serviceName":"web","selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"x"}]}}`
	got := e.req("POST", stsPath, ss("ok", tpl)).must(t, http.StatusCreated).obj(t)
	for _, c := range [][]any{
		{"OrderedReady", "spec", "podManagementPolicy"},
		{"RollingUpdate", "spec", "updateStrategy", "type"},
		{float64(0), "spec", "updateStrategy", "rollingUpdate", "partition"},
		{float64(1), "spec", "replicas"},
		{float64(10), "spec", "revisionHistoryLimit"},
		{"Retain", "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"},
		{"Retain", "spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"},
		{"Always", "spec", "template", "spec", "restartPolicy"},
	} {
		if v := path(got, strs(c[1:])...); v != c[0] {
			t.Errorf("%v = %v, want %v", c[1:], v, c[0])
		}
	}
	for _, c := range []struct{ name, spec, field string }{
		{"restart", strings.Replace(tpl, `"containers"`, `"restartPolicy":"Never","containers"`, 1), "spec.template.spec.restartPolicy"},
		{"deadline", strings.Replace(tpl, `"containers"`, `"activeDeadlineSeconds":5,"containers"`, 1), "spec.template.spec.activeDeadlineSeconds"},
		{"mismatch", strings.Replace(tpl, `"labels":{"app":"a"}`, `"labels":{"app":"b"}`, 1), "spec.template.metadata.labels"},
		{"noselector", `"template":{"metadata":{"labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"x"}]}}`, "spec.selector"},
		{"service", strings.Replace(tpl, `"serviceName":"web"`, `"serviceName":"Web.x"`, 1), "spec.serviceName"},
		{"policy", tpl + `,"podManagementPolicy":"Random"`, "spec.podManagementPolicy"},
		{"replicas", tpl + `,"replicas":-1`, "spec.replicas"},
		{"partition", tpl + `,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":-1}}`, "spec.updateStrategy.rollingUpdate.partition"},
		{"maxunavailable", tpl + `,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":2}}`, "spec.updateStrategy.rollingUpdate.maxUnavailable"},
		{"ondelete", tpl + `,"updateStrategy":{"type":"OnDelete","rollingUpdate":{"partition":1}}`, "spec.updateStrategy.rollingUpdate"},
		{"strategy", tpl + `,"updateStrategy":{"type":"Sometimes"}`, "spec.updateStrategy.type"},
		{"minready", tpl + `,"minReadySeconds":-1`, "spec.minReadySeconds"},
		{"ordinals", tpl + `,"ordinals":{"start":-1}`, "spec.ordinals.start"},
		{"retention", tpl + `,"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Keep"}`, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"},
		{"claimmodes", tpl + `,"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"resources":{"requests":{"storage":"1Gi"}}}}]`, "spec.volumeClaimTemplates[0].spec.accessModes"},
		{"claimsize", tpl + `,"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"]}}]`, "spec.volumeClaimTemplates[0].spec.resources.requests[storage]"},
		{"claimsource", tpl + `,"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"dataSource":{"kind":"PersistentVolumeClaim","name":"x"}}}]`, "spec.volumeClaimTemplates[0].spec.dataSource"},
		{"claimname", tpl + `,"volumeClaimTemplates":[{"metadata":{"name":"Data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]`, "spec.volumeClaimTemplates[0].metadata.name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := e.req("POST", stsPath, ss(c.name, c.spec)).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
			if !hasCause(st, c.field) {
				t.Fatalf("causes %+v, want %s", st.Details, c.field)
			}
		})
	}
	// a valid claim template: defaulted as a claim is
	claims := tpl + `,"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]`
	got = e.req("POST", stsPath, ss("claims", strings.Replace(claims, `"containers":[{"name":"c","image":"x"}]`,
		`"containers":[{"name":"c","image":"x","volumeMounts":[{"name":"data","mountPath":"/data"}]}]`, 1))).must(t, http.StatusCreated).obj(t)
	if v := fmt.Sprint(path(got, "spec", "volumeClaimTemplates")); !strings.Contains(v, "volumeMode:Filesystem") || !strings.Contains(v, "phase:Pending") {
		t.Errorf("claim template defaults: %v", v)
	}
	// volumeClaimTemplates never change
	st := e.req("PATCH", stsPath+"/claims", `{"spec":{"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"2Gi"}}}}]}}`,
		"Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !hasCause(st, "spec") {
		t.Fatalf("claim template change: %+v", st)
	}
	// Parallel and OnDelete; updates may change replicas, template,
	// updateStrategy and minReadySeconds, not the rest of the spec
	e.req("POST", stsPath, ss("par", tpl+`,"podManagementPolicy":"Parallel","updateStrategy":{"type":"OnDelete"}`)).must(t, http.StatusCreated)
	merge := "Content-Type: application/merge-patch+json"
	e.req("PATCH", stsPath+"/ok", `{"spec":{"replicas":3,"minReadySeconds":2,"updateStrategy":{"rollingUpdate":{"partition":2}},"template":{"spec":{"containers":[{"name":"c","image":"y"}]}}}}`, merge).
		must(t, http.StatusOK)
	for _, p := range []string{`{"spec":{"serviceName":"other"}}`, `{"spec":{"podManagementPolicy":"Parallel"}}`} {
		st := e.req("PATCH", stsPath+"/ok", p, merge).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if !hasCause(st, "spec") || !strings.Contains(st.Message, "updates to statefulset spec for fields other than") {
			t.Fatalf("%s: %+v", p, st)
		}
	}
	// status is its own subresource
	e.req("PUT", stsPath+"/ok/status", `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"ok"},"status":{"replicas":3,"readyReplicas":2,"currentRevision":"ok-1","updateRevision":"ok-2"}}`).
		must(t, http.StatusOK)
	got = e.req("GET", stsPath+"/ok", nil).must(t, http.StatusOK).obj(t)
	if path(got, "status", "readyReplicas") != float64(2) || path(got, "spec", "replicas") != float64(3) {
		t.Fatalf("after status update: %v", got)
	}
	// scale
	sc := e.req("GET", stsPath+"/ok/scale", nil).must(t, http.StatusOK).obj(t)
	if path(sc, "kind") != "Scale" || path(sc, "spec", "replicas") != float64(3) || path(sc, "status", "replicas") != float64(3) ||
		path(sc, "status", "selector") != "app=a" {
		t.Fatalf("scale %v", sc)
	}
	e.req("PATCH", stsPath+"/ok/scale", `{"spec":{"replicas":5}}`, merge).must(t, http.StatusOK)
	if got := e.req("GET", stsPath+"/ok", nil).must(t, http.StatusOK).obj(t); path(got, "spec", "replicas") != float64(5) {
		t.Fatalf("after scale: %v", path(got, "spec", "replicas"))
	}
	e.req("PUT", stsPath+"/ok/scale", `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"ok"},"spec":{"replicas":-1}}`).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
}
