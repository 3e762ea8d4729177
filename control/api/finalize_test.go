package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const mergePatch = "Content-Type: application/merge-patch+json"

func getCM(t *testing.T, e *env, name string) (corev1.ConfigMap, int) {
	t.Helper()
	r := e.req("GET", cmPath+"/"+name, nil)
	var cm corev1.ConfigMap
	if r.code == 200 {
		r.into(t, &cm)
	}
	return cm, r.code
}

func TestFinalizersBlockDeletion(t *testing.T) {
	e := newEnv(t)
	e.req("POST", cmPath, `{"metadata":{"name":"fin","finalizers":["example.com/a","example.com/b"]}}`).must(t, 201)
	start := time.Now()
	var answered corev1.ConfigMap
	e.req("DELETE", cmPath+"/fin", nil).must(t, http.StatusOK).into(t, &answered)
	if answered.DeletionTimestamp == nil || answered.DeletionGracePeriodSeconds == nil || *answered.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("DELETE answered deletionTimestamp %v grace %v, want set and 0", answered.DeletionTimestamp, answered.DeletionGracePeriodSeconds)
	}
	if d := answered.DeletionTimestamp.Sub(start); d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("deletionTimestamp %v, want about %v", answered.DeletionTimestamp, start)
	}
	cm, code := getCM(t, e, "fin")
	if code != 200 || cm.DeletionTimestamp == nil {
		t.Fatalf("object with finalizers: GET %d, deletionTimestamp %v; want it kept, being deleted", code, cm.DeletionTimestamp)
	}
	// A second DELETE changes nothing.
	e.req("DELETE", cmPath+"/fin", nil).must(t, 200)
	if again, _ := getCM(t, e, "fin"); again.ResourceVersion != cm.ResourceVersion {
		t.Fatalf("a second DELETE wrote the object (rv %s -> %s)", cm.ResourceVersion, again.ResourceVersion)
	}

	// Clients can neither clear deletionTimestamp nor add finalizers now.
	e.req("PATCH", cmPath+"/fin", `{"metadata":{"deletionTimestamp":null,"labels":{"x":"y"}}}`, mergePatch).must(t, 200)
	if cm, _ = getCM(t, e, "fin"); cm.DeletionTimestamp == nil || cm.Labels["x"] != "y" {
		t.Fatalf("after a patch clearing deletionTimestamp: %v labels %v; want it kept", cm.DeletionTimestamp, cm.Labels)
	}
	e.req("PATCH", cmPath+"/fin", `{"metadata":{"finalizers":["example.com/a","example.com/b","example.com/c"]}}`, mergePatch).
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)

	// Removing one finalizer keeps it; removing the last deletes it.
	e.req("PATCH", cmPath+"/fin", `{"metadata":{"finalizers":["example.com/b"]}}`, mergePatch).must(t, 200)
	if _, code := getCM(t, e, "fin"); code != 200 {
		t.Fatalf("GET after removing one of two finalizers: %d, want 200", code)
	}
	cm, _ = getCM(t, e, "fin")
	cm.Finalizers = nil
	e.req("PUT", cmPath+"/fin", cm).must(t, 200)
	if _, code := getCM(t, e, "fin"); code != 404 {
		t.Fatalf("GET after removing the last finalizer: %d, want 404", code)
	}
}

func TestDeletionTimestampNotSettableByClients(t *testing.T) {
	e := newEnv(t)
	e.req("POST", cmPath, `{"metadata":{"name":"ts","deletionTimestamp":"2020-01-01T00:00:00Z"}}`).must(t, 201)
	e.req("PATCH", cmPath+"/ts", `{"metadata":{"deletionTimestamp":"2020-01-01T00:00:00Z"}}`, mergePatch).must(t, 200)
	if cm, _ := getCM(t, e, "ts"); cm.DeletionTimestamp != nil {
		t.Fatalf("a client set deletionTimestamp %v", cm.DeletionTimestamp)
	}
	// Without finalizers a DELETE removes at once, as before.
	e.req("DELETE", cmPath+"/ts", nil).must(t, 200)
	if _, code := getCM(t, e, "ts"); code != 404 {
		t.Fatalf("GET after DELETE: %d, want 404", code)
	}
}

func TestPropagationPolicyFinalizers(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, query, body string
		want              []string // finalizers; nil: deleted at once
	}{
		{"fg-body", "", `{"propagationPolicy":"Foreground"}`, []string{"foregroundDeletion"}},
		{"fg-query", "?propagationPolicy=Foreground", "", []string{"foregroundDeletion"}},
		{"orphan-body", "", `{"propagationPolicy":"Orphan"}`, []string{"orphan"}},
		{"orphan-query", "?propagationPolicy=Orphan", "", []string{"orphan"}},
		{"orphan-legacy", "", `{"orphanDependents":true}`, []string{"orphan"}},
		{"orphan-legacy-query", "?orphanDependents=true", "", []string{"orphan"}},
		{"bg-legacy", "", `{"orphanDependents":false}`, nil},
		{"bg", "?propagationPolicy=Background", "", nil},
		{"body-wins", "?propagationPolicy=Orphan", `{"propagationPolicy":"Foreground"}`, []string{"foregroundDeletion"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.req("POST", cmPath, `{"metadata":{"name":"`+c.name+`"}}`).must(t, 201)
			var body any
			if c.body != "" {
				body = c.body
			}
			e.req("DELETE", cmPath+"/"+c.name+c.query, body).must(t, 200)
			cm, code := getCM(t, e, c.name)
			if c.want == nil {
				if code != 404 {
					t.Fatalf("GET %d, want 404 (deleted at once)", code)
				}
				return
			}
			if code != 200 || cm.DeletionTimestamp == nil || !slices.Equal(cm.Finalizers, c.want) {
				t.Fatalf("GET %d, deletionTimestamp %v, finalizers %v; want 200, set, %v", code, cm.DeletionTimestamp, cm.Finalizers, c.want)
			}
		})
	}
}

func TestPropagationPolicySwitch(t *testing.T) {
	e := newEnv(t)
	e.req("POST", cmPath, `{"metadata":{"name":"sw","finalizers":["example.com/keep"]}}`).must(t, 201)
	e.req("DELETE", cmPath+"/sw?propagationPolicy=Orphan", nil).must(t, 200)
	e.req("DELETE", cmPath+"/sw?propagationPolicy=Foreground", nil).must(t, 200)
	cm, _ := getCM(t, e, "sw")
	if want := []string{"example.com/keep", "foregroundDeletion"}; !slices.Equal(cm.Finalizers, want) {
		t.Fatalf("finalizers %v, want %v (Foreground replaces orphan)", cm.Finalizers, want)
	}
	e.req("DELETE", cmPath+"/sw?propagationPolicy=Background", nil).must(t, 200)
	cm, _ = getCM(t, e, "sw")
	if want := []string{"example.com/keep"}; !slices.Equal(cm.Finalizers, want) {
		t.Fatalf("finalizers %v, want %v (Background drops the GC finalizers)", cm.Finalizers, want)
	}
	e.req("PATCH", cmPath+"/sw", `{"metadata":{"finalizers":null}}`, mergePatch).must(t, 200)
	if _, code := getCM(t, e, "sw"); code != 404 {
		t.Fatalf("GET %d after removing the last finalizer, want 404", code)
	}
}

func TestInvalidPropagationPolicy(t *testing.T) {
	e := newEnv(t)
	e.req("POST", cmPath, `{"metadata":{"name":"bad"}}`).must(t, 201)
	e.req("DELETE", cmPath+"/bad?propagationPolicy=Sideways", nil).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	e.req("DELETE", cmPath+"/bad", `{"propagationPolicy":"sideways"}`).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	e.req("DELETE", cmPath+"/bad", `{"propagationPolicy":"Orphan","orphanDependents":true}`).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	e.req("DELETE", cmPath+"/bad?orphanDependents=maybe", nil).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if _, code := getCM(t, e, "bad"); code != 200 {
		t.Fatalf("an invalid DELETE removed the object (GET %d)", code)
	}
}

func TestFinalizedServiceReleasesItsClusterIP(t *testing.T) {
	e := newEnv(t)
	svc := `{"metadata":{"name":"NAME","finalizers":["example.com/a"]},"spec":{"clusterIP":"10.96.0.77","ports":[{"port":80}]}}`
	e.req("POST", svcPath, strings.ReplaceAll(svc, "NAME", "fsvc")).must(t, 201)
	e.req("DELETE", svcPath+"/fsvc", nil).must(t, 200)
	e.req("POST", svcPath, strings.ReplaceAll(svc, "NAME", "other")).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	e.req("PATCH", svcPath+"/fsvc", `{"metadata":{"finalizers":[]}}`, mergePatch).must(t, 200)
	e.req("GET", svcPath+"/fsvc", nil).must(t, 404)
	e.req("POST", svcPath, strings.ReplaceAll(svc, "NAME", "other")).must(t, 201)
}

func TestPodGraceAndFinalizers(t *testing.T) {
	e := newEnv(t)
	boundPod(t, e, "fp", 30)
	e.req("PATCH", podPath+"/fp", `{"metadata":{"finalizers":["example.com/a"]}}`, mergePatch).must(t, 200)
	start := time.Now()
	e.req("DELETE", podPath+"/fp", nil).must(t, 200)
	p, _ := getPod(t, e, "fp")
	checkTerminating(t, p, 30, start)
	// The grace still runs (the agent has not reported it stopped): removing
	// the finalizer does not delete it.
	e.req("PATCH", podPath+"/fp", `{"metadata":{"finalizers":null}}`, mergePatch).must(t, 200)
	if _, code := getPod(t, e, "fp"); code != 200 {
		t.Fatalf("GET %d: a terminating pod went before its agent reported it stopped", code)
	}
	// Force deletion with a finalizer: grace 0, kept until it is removed.
	boundPod(t, e, "fp2", 30)
	e.req("PATCH", podPath+"/fp2", `{"metadata":{"finalizers":["example.com/a"]}}`, mergePatch).must(t, 200)
	e.req("DELETE", podPath+"/fp2?gracePeriodSeconds=0", nil).must(t, 200)
	p, code := getPod(t, e, "fp2")
	if code != 200 || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("GET %d grace %v, want 200 with grace 0", code, p.DeletionGracePeriodSeconds)
	}
	e.req("PATCH", podPath+"/fp2", `{"metadata":{"finalizers":null}}`, mergePatch).must(t, 200)
	if _, code := getPod(t, e, "fp2"); code != 404 {
		t.Fatalf("GET %d after removing the last finalizer of a force-deleted pod, want 404", code)
	}
}
