package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const pdbPath = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"

// runningPod creates pod name labelled app=web, bound to node-1, Running
// and (when ready) Ready, as its agent would report it.
func runningPod(t *testing.T, e *env, name string, ready bool) {
	t.Helper()
	boundPod(t, e, name, -1)
	var p corev1.Pod
	e.req("GET", podPath+"/"+name, nil).must(t, 200).into(t, &p)
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels["app"] = "web"
	e.req("PUT", podPath+"/"+name, p).must(t, 200).into(t, &p)
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}}
	e.req("PUT", podPath+"/"+name+"/status", p).must(t, 200)
}

// budget creates a PodDisruptionBudget for app=web and sets its status
// as its controller would: seen generation, the given counts.
func budget(t *testing.T, e *env, name string, spec policyv1.PodDisruptionBudgetSpec, st policyv1.PodDisruptionBudgetStatus) {
	t.Helper()
	if spec.Selector == nil {
		spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	}
	pdb := policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	e.req("POST", pdbPath, pdb).must(t, 201).into(t, &pdb)
	st.ObservedGeneration = pdb.Generation
	pdb.Status = st
	e.req("PUT", pdbPath+"/"+name+"/status", pdb).must(t, 200)
}

func getBudget(t *testing.T, e *env, name string) policyv1.PodDisruptionBudget {
	t.Helper()
	var pdb policyv1.PodDisruptionBudget
	e.req("GET", pdbPath+"/"+name, nil).must(t, 200).into(t, &pdb)
	return pdb
}

func eviction(name string, grace int64) policyv1.Eviction {
	return policyv1.Eviction{TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "Eviction"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: &grace}}
}

func TestEvictionHonoursBudget(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"web-0", "web-1", "web-2"} {
		runningPod(t, e, n, true)
	}
	two := intstr.FromInt32(2)
	budget(t, e, "web", policyv1.PodDisruptionBudgetSpec{MinAvailable: &two},
		policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3, DisruptionsAllowed: 1})

	// a dry run checks and writes nothing
	e.req("POST", podPath+"/web-0/eviction?dryRun=All", eviction("web-0", 30)).must(t, 201)
	if pdb := getBudget(t, e, "web"); pdb.Status.DisruptionsAllowed != 1 || len(pdb.Status.DisruptedPods) != 0 {
		t.Fatalf("dry run changed the budget: %+v", pdb.Status)
	}

	var st metav1.Status
	e.req("POST", podPath+"/web-0/eviction", eviction("web-0", 30)).must(t, http.StatusCreated).into(t, &st)
	if st.Status != metav1.StatusSuccess {
		t.Fatalf("eviction answered %+v", st)
	}
	p, code := getPod(t, e, "web-0")
	if code != 200 || p.DeletionTimestamp == nil {
		t.Fatalf("evicted pod: code %d, deletionTimestamp %v; want it terminating (grace 30)", code, p.DeletionTimestamp)
	}
	if !hasCondition(p, corev1.DisruptionTarget, "EvictionByEvictionAPI") {
		t.Errorf("evicted pod has no DisruptionTarget condition: %+v", p.Status.Conditions)
	}
	pdb := getBudget(t, e, "web")
	if pdb.Status.DisruptionsAllowed != 0 {
		t.Errorf("disruptionsAllowed %d after the eviction, want 0", pdb.Status.DisruptionsAllowed)
	}
	if _, ok := pdb.Status.DisruptedPods["web-0"]; !ok || len(pdb.Status.DisruptedPods) != 1 {
		t.Errorf("disruptedPods %v, want web-0", pdb.Status.DisruptedPods)
	}

	s := e.req("POST", podPath+"/web-1/eviction", eviction("web-1", 0)).status(t, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests)
	if s.Message != "Cannot evict pod as it would violate the pod's disruption budget." {
		t.Errorf("429 message %q", s.Message)
	}
	if s.Details == nil || len(s.Details.Causes) != 1 || s.Details.Causes[0].Type != policyv1.DisruptionBudgetCause ||
		s.Details.Causes[0].Message != "The disruption budget web needs 2 healthy pods and has 3 currently" {
		t.Errorf("429 details %+v", s.Details)
	}
	if _, code := getPod(t, e, "web-1"); code != 200 {
		t.Errorf("a refused eviction removed the pod (GET %d)", code)
	}

	// an already terminating pod is deleted without the budget
	e.req("POST", podPath+"/web-0/eviction", eviction("web-0", 0)).must(t, http.StatusCreated)
	if _, code := getPod(t, e, "web-0"); code != 404 {
		t.Errorf("terminating pod evicted with grace 0: GET %d, want 404", code)
	}

	// more than one budget: 500, as kube
	budget(t, e, "web-too", policyv1.PodDisruptionBudgetSpec{MinAvailable: &two},
		policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 5})
	s = e.req("POST", podPath+"/web-1/eviction", eviction("web-1", 0)).status(t, http.StatusInternalServerError, "")
	if !strings.Contains(s.Message, "more than one PodDisruptionBudget") {
		t.Errorf("500 message %q", s.Message)
	}
	e.req("DELETE", pdbPath+"/web-too", nil).must(t, 200)

	// a UID precondition that does not hold uses no budget
	stale := eviction("web-1", 0)
	stale.DeleteOptions.Preconditions = &metav1.Preconditions{UID: new(types.UID("not-the-pod"))}
	e.req("POST", podPath+"/web-1/eviction", stale).status(t, http.StatusConflict, metav1.StatusReasonConflict)

	// the URL's pod and the body's must agree
	e.req("POST", podPath+"/web-1/eviction", eviction("web-2", 0)).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	e.req("POST", podPath+"/nope/eviction", eviction("nope", 0)).status(t, http.StatusNotFound, metav1.StatusReasonNotFound)
	e.req("GET", podPath+"/web-1/eviction", nil).must(t, http.StatusMethodNotAllowed)
}

func hasCondition(p corev1.Pod, typ corev1.PodConditionType, reason string) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == typ && c.Status == corev1.ConditionTrue && c.Reason == reason {
			return true
		}
	}
	return false
}

// TestEvictionUnhealthyPods: a pod that is not Ready does not use the
// budget; it goes when the budget is met (IfHealthyBudget) or always
// (AlwaysAllow), and a pod that is not running ignores budgets.
func TestEvictionUnhealthyPods(t *testing.T) {
	e := newEnv(t)
	runningPod(t, e, "sick", false)
	runningPod(t, e, "sick-2", false)
	runningPod(t, e, "ok", true)
	one := intstr.FromInt32(1)
	budget(t, e, "web", policyv1.PodDisruptionBudgetSpec{MinAvailable: &one},
		policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 3})
	e.req("POST", podPath+"/sick/eviction", eviction("sick", 0)).must(t, http.StatusCreated)
	if _, code := getPod(t, e, "sick"); code != 404 {
		t.Errorf("unready pod under a met budget: GET %d after eviction, want 404", code)
	}
	if pdb := getBudget(t, e, "web"); len(pdb.Status.DisruptedPods) != 0 {
		t.Errorf("an unready pod's eviction used the budget: %+v", pdb.Status)
	}

	// the budget is not met: IfHealthyBudget refuses, AlwaysAllow deletes
	pdb := getBudget(t, e, "web")
	pdb.Status.CurrentHealthy = 0
	e.req("PUT", pdbPath+"/web/status", pdb).must(t, 200)
	e.req("POST", podPath+"/sick-2/eviction", eviction("sick-2", 0)).status(t, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests)
	pdb = getBudget(t, e, "web")
	always := policyv1.AlwaysAllow
	pdb.Spec.UnhealthyPodEvictionPolicy = &always
	e.req("PUT", pdbPath+"/web", pdb).must(t, 200).into(t, &pdb)
	pdb.Status.ObservedGeneration = pdb.Generation
	e.req("PUT", pdbPath+"/web/status", pdb).must(t, 200)
	e.req("POST", podPath+"/sick-2/eviction", eviction("sick-2", 0)).must(t, http.StatusCreated)

	// a pending pod disrupts nothing
	e.req("POST", podPath, `{"metadata":{"name":"pending","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}`).must(t, 201)
	e.req("POST", podPath+"/pending/eviction", eviction("pending", 0)).must(t, http.StatusCreated)
	if _, code := getPod(t, e, "pending"); code != 404 {
		t.Errorf("pending pod: GET %d after eviction, want 404", code)
	}
}

// TestEvictionConcurrent: evictions racing through client-go's EvictV1
// never take more disruptions than the budget allows.
func TestEvictionConcurrent(t *testing.T) {
	e := newEnv(t)
	const pods, allowed = 10, 3
	names := make([]string, pods)
	for i := range names {
		names[i] = "web-" + string(rune('a'+i))
		runningPod(t, e, names[i], true)
	}
	max := intstr.FromInt32(allowed)
	budget(t, e, "web", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &max},
		policyv1.PodDisruptionBudgetStatus{CurrentHealthy: pods, DesiredHealthy: pods - allowed, ExpectedPods: pods, DisruptionsAllowed: allowed})
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: e.http.URL, BearerToken: testToken, QPS: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, pods)
	for i, n := range names {
		wg.Go(func() {
			errs[i] = cs.PolicyV1().Evictions("default").Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "default"}})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !apierrors.IsTooManyRequests(err):
			t.Errorf("evict %s: %v, want success or 429", names[i], err)
		}
	}
	if ok != allowed {
		t.Errorf("%d evictions succeeded, want exactly %d", ok, allowed)
	}
	pdb := getBudget(t, e, "web")
	if pdb.Status.DisruptionsAllowed != 0 || len(pdb.Status.DisruptedPods) != allowed {
		t.Errorf("budget after the race: allowed %d, disrupted %v", pdb.Status.DisruptionsAllowed, pdb.Status.DisruptedPods)
	}
	terminating := 0
	for _, n := range names {
		if p, _ := getPod(t, e, n); p.DeletionTimestamp != nil {
			terminating++
		}
	}
	if terminating != allowed {
		t.Errorf("%d pods terminating, want %d", terminating, allowed)
	}
}

func TestPodDisruptionBudgetValidation(t *testing.T) {
	e := newEnv(t)
	cases := map[string]string{
		"both":     `"minAvailable":1,"maxUnavailable":1`,
		"percent":  `"minAvailable":"150%"`,
		"garbage":  `"maxUnavailable":"lots"`,
		"policy":   `"minAvailable":1,"unhealthyPodEvictionPolicy":"Sometimes"`,
		"negative": `"minAvailable":-1`,
		"selector": `"minAvailable":1,"selector":{"matchLabels":{"a b":"c"}}`,
	}
	want := map[string]string{"both": "spec", "percent": "spec.minAvailable", "garbage": "spec.maxUnavailable",
		"policy": "spec.unhealthyPodEvictionPolicy", "negative": "spec.minAvailable", "selector": "spec.selector.matchLabels"}
	for name, spec := range cases {
		s := e.req("POST", pdbPath, `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"x"},"spec":{`+spec+`}}`).
			status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if s.Details == nil || len(s.Details.Causes) == 0 || s.Details.Causes[0].Field != want[name] {
			t.Errorf("%s: causes %+v, want field %s", name, s.Details, want[name])
		}
	}
	// a budget's status starts empty, whatever the create says
	var pdb policyv1.PodDisruptionBudget
	e.req("POST", pdbPath, `{"metadata":{"name":"ok"},"spec":{"maxUnavailable":"25%","selector":{}},"status":{"disruptionsAllowed":9}}`).
		must(t, 201).into(t, &pdb)
	if pdb.Status.DisruptionsAllowed != 0 {
		t.Errorf("created with status %+v", pdb.Status)
	}
	pdb.Status.DisruptionsAllowed = -1
	e.req("PUT", pdbPath+"/ok/status", pdb).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	var list metav1.APIResourceList
	e.req("GET", "/api/v1", nil).must(t, 200).into(t, &list)
	found := false
	for _, r := range list.APIResources {
		if r.Name == "pods/eviction" {
			found = r.Group == "policy" && r.Version == "v1" && r.Kind == "Eviction" && len(r.Verbs) == 1 && r.Verbs[0] == "create"
		}
	}
	if !found {
		t.Error("discovery of /api/v1 lacks pods/eviction as policy/v1 Eviction, create")
	}
}

// TestPodDisruptionBudgetApply: server-side apply knows the policy/v1
// schema (a budget is created, then changed, by apply).
func TestPodDisruptionBudgetApply(t *testing.T) {
	e := newEnv(t)
	doc := func(min string) string {
		return "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  minAvailable: " + min +
			"\n  selector:\n    matchLabels: {app: web}\n"
	}
	e.req("PATCH", pdbPath+"/web?fieldManager=test", doc("1"), applyYAML).must(t, http.StatusCreated)
	var pdb policyv1.PodDisruptionBudget
	e.req("PATCH", pdbPath+"/web?fieldManager=test", doc(`"50%"`), applyYAML).must(t, 200).into(t, &pdb)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.String() != "50%" || pdb.Generation != 2 {
		t.Errorf("applied budget: minAvailable %v, generation %d", pdb.Spec.MinAvailable, pdb.Generation)
	}
}
