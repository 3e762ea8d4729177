package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// boundPod creates pod name bound to node-1 with the given
// terminationGracePeriodSeconds (-1: none given, the default applies).
func boundPod(t *testing.T, e *env, name string, grace int) {
	t.Helper()
	spec := `"containers":[{"name":"c","image":"busybox"}]`
	if grace >= 0 {
		spec += `,"terminationGracePeriodSeconds":` + strconv.Itoa(grace)
	}
	e.req("POST", podPath, `{"metadata":{"name":"`+name+`"},"spec":{`+spec+`}}`).must(t, 201)
	e.req("POST", podPath+"/"+name+"/binding", `{"metadata":{"name":"`+name+`"},"target":{"kind":"Node","name":"node-1"}}`).must(t, 201)
}

func getPod(t *testing.T, e *env, name string) (corev1.Pod, int) {
	t.Helper()
	r := e.req("GET", podPath+"/"+name, nil)
	var p corev1.Pod
	if r.code == 200 {
		r.into(t, &p)
	}
	return p, r.code
}

// checkTerminating checks pod's deletion fields: grace seconds, and a
// deletionTimestamp grace seconds after about since.
func checkTerminating(t *testing.T, p corev1.Pod, grace int64, since time.Time) {
	t.Helper()
	if p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != grace {
		t.Fatalf("pod %s: deletionTimestamp %v, grace %v; want grace %d", p.Name, p.DeletionTimestamp, p.DeletionGracePeriodSeconds, grace)
	}
	want := since.Add(time.Duration(grace) * time.Second)
	if d := p.DeletionTimestamp.Sub(want); d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("pod %s: deletionTimestamp %v, want about %v", p.Name, p.DeletionTimestamp, want)
	}
}

func TestPodGracefulDelete(t *testing.T) {
	e := newEnv(t)
	boundPod(t, e, "web", 20)
	start := time.Now()
	var first corev1.Pod
	e.req("DELETE", podPath+"/web", nil).must(t, http.StatusOK).into(t, &first)
	checkTerminating(t, first, 20, start)
	stored, code := getPod(t, e, "web")
	if code != 200 {
		t.Fatalf("a running pod was removed at once (GET %d)", code)
	}
	checkTerminating(t, stored, 20, start)
	if stored.Generation != 2 {
		t.Errorf("generation %d after graceful delete, want 2", stored.Generation)
	}

	// A longer grace does not extend it; a shorter one counts from the first request.
	e.req("DELETE", podPath+"/web", `{"gracePeriodSeconds":60}`).must(t, 200)
	p, _ := getPod(t, e, "web")
	if !p.DeletionTimestamp.Equal(first.DeletionTimestamp) || *p.DeletionGracePeriodSeconds != 20 || p.ResourceVersion != stored.ResourceVersion {
		t.Fatalf("a longer grace changed the pod: %v %d rv %s", p.DeletionTimestamp, *p.DeletionGracePeriodSeconds, p.ResourceVersion)
	}
	e.req("DELETE", podPath+"/web?gracePeriodSeconds=5", nil).must(t, 200)
	p, _ = getPod(t, e, "web")
	checkTerminating(t, p, 5, start)

	// Updates keep the deletion fields.
	e.req("PATCH", podPath+"/web", `{"metadata":{"labels":{"a":"b"},"deletionTimestamp":null}}`, "Content-Type: application/merge-patch+json").must(t, 200)
	p, _ = getPod(t, e, "web")
	checkTerminating(t, p, 5, start)

	// Grace 0 removes it at once.
	e.req("DELETE", podPath+"/web", `{"gracePeriodSeconds":0}`).must(t, 200)
	if _, code := getPod(t, e, "web"); code != 404 {
		t.Fatalf("GET after gracePeriodSeconds=0: %d, want 404", code)
	}
}

func TestPodDeleteGraceSources(t *testing.T) {
	e := newEnv(t)
	boundPod(t, e, "dflt", -1)
	var p corev1.Pod
	start := time.Now()
	e.req("DELETE", podPath+"/dflt", nil).must(t, 200).into(t, &p)
	checkTerminating(t, p, 30, start)

	boundPod(t, e, "opt", 20)
	e.req("DELETE", podPath+"/opt", `{"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":7}`).must(t, 200).into(t, &p)
	checkTerminating(t, p, 7, start)

	boundPod(t, e, "neg", 20)
	e.req("DELETE", podPath+"/neg?gracePeriodSeconds=-3", nil).must(t, 200).into(t, &p)
	checkTerminating(t, p, 1, start)

	e.req("DELETE", podPath+"/opt?gracePeriodSeconds=soon", nil).status(t, 400, "BadRequest")
}

func TestPodDeleteImmediate(t *testing.T) {
	e := newEnv(t)
	// unbound: no agent runs it
	e.req("POST", podPath, `{"metadata":{"name":"free"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}`).must(t, 201)
	e.req("DELETE", podPath+"/free", nil).must(t, 200)
	if _, code := getPod(t, e, "free"); code != 404 {
		t.Fatalf("unbound pod still there: %d", code)
	}
	// terminal: nothing left to stop
	boundPod(t, e, "done", 20)
	p, _ := getPod(t, e, "done")
	p.Status.Phase = corev1.PodSucceeded
	e.req("PUT", podPath+"/done/status", p).must(t, 200)
	e.req("DELETE", podPath+"/done", nil).must(t, 200)
	if _, code := getPod(t, e, "done"); code != 404 {
		t.Fatalf("succeeded pod still there: %d", code)
	}
	// grace 0 via terminationGracePeriodSeconds
	boundPod(t, e, "zero", 0)
	e.req("DELETE", podPath+"/zero", nil).must(t, 200)
	if _, code := getPod(t, e, "zero"); code != 404 {
		t.Fatalf("pod with terminationGracePeriodSeconds 0 still there: %d", code)
	}
}

func TestPodDeleteDryRunAndPreconditions(t *testing.T) {
	e := newEnv(t)
	boundPod(t, e, "web", 20)
	var p corev1.Pod
	e.req("DELETE", podPath+"/web", `{"dryRun":["All"]}`).must(t, 200).into(t, &p)
	if p.DeletionTimestamp == nil {
		t.Fatalf("dry run answer without deletionTimestamp")
	}
	stored, _ := getPod(t, e, "web")
	if stored.DeletionTimestamp != nil {
		t.Fatalf("dry run marked the pod: %v", stored.DeletionTimestamp)
	}
	e.req("DELETE", podPath+"/web", `{"preconditions":{"resourceVersion":"1"}}`).status(t, 409, "Conflict")
	e.req("DELETE", podPath+"/web", `{"preconditions":{"uid":"other"}}`).status(t, 409, "Conflict")
	e.req("DELETE", podPath+"/web", `{"preconditions":{"resourceVersion":"`+stored.ResourceVersion+`","uid":"`+string(stored.UID)+`"}}`).must(t, 200)
	if p, _ := getPod(t, e, "web"); p.DeletionTimestamp == nil {
		t.Fatal("DELETE with holding preconditions did not mark the pod")
	}
}
