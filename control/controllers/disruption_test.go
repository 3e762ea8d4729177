package controllers_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/control/controllers"
)

func planPod(name string, ready bool, owner types.UID) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: string(owner), UID: owner, Controller: new(true)}}
	}
	return p
}

func TestPlanDisruption(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	scales := map[types.UID]int32{"rs-a": 4, "rs-b": 2}
	scale := func(_ string, ref *metav1.OwnerReference) (types.UID, int32, bool) {
		n, ok := scales[ref.UID]
		return ref.UID, n, ok
	}
	ip := func(v intstr.IntOrString) *intstr.IntOrString { return &v }
	four := []*corev1.Pod{planPod("a", true, "rs-a"), planPod("b", true, "rs-a"), planPod("c", true, "rs-a"), planPod("d", false, "rs-a")}
	cases := []struct {
		name      string
		spec      policyv1.PodDisruptionBudgetSpec
		disrupted map[string]metav1.Time
		pods      []*corev1.Pod
		want      policyv1.PodDisruptionBudgetStatus // conditions aside
		allowed   metav1.ConditionStatus
		reason    string
		unmanaged int
		recheck   time.Duration
	}{
		{name: "minAvailable int counts pods", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ip(intstr.FromInt32(2))}, pods: four,
			want:    policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 4, DisruptionsAllowed: 1},
			allowed: metav1.ConditionTrue, reason: policyv1.SufficientPodsReason},
		{name: "maxUnavailable percent of the controller's scale, rounded up",
			spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ip(intstr.FromString("30%"))}, pods: four,
			want:    policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 4, DisruptionsAllowed: 1},
			allowed: metav1.ConditionTrue, reason: policyv1.SufficientPodsReason},
		{name: "minAvailable percent of two controllers", spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ip(intstr.FromString("100%"))},
			pods:    append([]*corev1.Pod{planPod("e", true, "rs-b")}, four...),
			want:    policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 4, DesiredHealthy: 6, ExpectedPods: 6},
			allowed: metav1.ConditionFalse, reason: policyv1.InsufficientPodsReason},
		{name: "an approved eviction is not healthy until its timeout",
			spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ip(intstr.FromInt32(2))}, pods: four,
			disrupted: map[string]metav1.Time{"a": metav1.NewTime(now.Add(-time.Minute)), "b": metav1.NewTime(now.Add(-3 * time.Minute))},
			want: policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 2, DesiredHealthy: 2, ExpectedPods: 4,
				DisruptedPods: map[string]metav1.Time{"a": metav1.NewTime(now.Add(-time.Minute))}},
			allowed: metav1.ConditionFalse, reason: policyv1.InsufficientPodsReason, recheck: time.Minute},
		{name: "unmanaged pods do not count for a percentage",
			spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ip(intstr.FromInt32(1))}, pods: []*corev1.Pod{planPod("x", true, "")},
			want:    policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 1},
			allowed: metav1.ConditionFalse, reason: policyv1.InsufficientPodsReason, unmanaged: 1},
		{name: "a controller without a scale fails safe",
			spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ip(intstr.FromInt32(1))}, pods: []*corev1.Pod{planPod("y", true, "job")},
			allowed: metav1.ConditionFalse, reason: policyv1.SyncFailedReason},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "default", Generation: 3},
				Spec: tc.spec, Status: policyv1.PodDisruptionBudgetStatus{DisruptedPods: tc.disrupted, DisruptionsAllowed: 5}}
			plan := controllers.PlanDisruption(pdb, tc.pods, scale, now)
			if plan.Status == nil {
				t.Fatal("no status change planned")
			}
			got := *plan.Status
			c := apimeta.FindStatusCondition(got.Conditions, policyv1.DisruptionAllowedCondition)
			if c == nil || c.Status != tc.allowed || c.Reason != tc.reason {
				t.Errorf("condition %+v, want %s %s", c, tc.allowed, tc.reason)
			}
			if len(plan.Unmanaged) != tc.unmanaged || plan.Recheck != tc.recheck {
				t.Errorf("unmanaged %v recheck %v, want %d, %v", plan.Unmanaged, plan.Recheck, tc.unmanaged, tc.recheck)
			}
			if tc.reason == policyv1.SyncFailedReason {
				if plan.Err == nil || got.DisruptionsAllowed != 0 {
					t.Errorf("fail-safe: err %v, allowed %d", plan.Err, got.DisruptionsAllowed)
				}
				return
			}
			got.Conditions, tc.want.ObservedGeneration = nil, 3
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("status\n got %+v\nwant %+v", got, tc.want)
			}
			// planning again from what was planned changes nothing
			pdb.Status = *plan.Status
			if again := controllers.PlanDisruption(pdb, tc.pods, scale, now); again.Status != nil {
				t.Errorf("a second plan changes the status again: %+v", again.Status)
			}
		})
	}
}

// TestDisruptionController: a budget over a ReplicaSet's pods gets its
// status from the controller; an eviction through the API takes the one
// disruption it allows, a second is refused with 429 until the
// replacement pod is Ready.
func TestDisruptionController(t *testing.T) {
	c := start(t)
	runKubelet(t, c, "default", nil)
	labels := map[string]string{"app": "pdb"}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "pdb", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: new(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
	if err := discard(c.AppsV1().ReplicaSets("default").Create(bg, rs, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "pdb", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}}}
	if err := discard(c.PolicyV1().PodDisruptionBudgets("default").Create(bg, pdb, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	status := func(want policyv1.PodDisruptionBudgetStatus, allowed metav1.ConditionStatus) func() string {
		return func() string {
			got, err := c.PolicyV1().PodDisruptionBudgets("default").Get(bg, "pdb", metav1.GetOptions{})
			if err != nil {
				return err.Error()
			}
			st := got.Status
			cond := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
			if st.ExpectedPods != want.ExpectedPods || st.DesiredHealthy != want.DesiredHealthy || st.CurrentHealthy != want.CurrentHealthy ||
				st.DisruptionsAllowed != want.DisruptionsAllowed || st.ObservedGeneration != got.Generation || cond == nil || cond.Status != allowed {
				return fmt.Sprintf("status %+v", st)
			}
			return ""
		}
	}
	eventually(t, status(policyv1.PodDisruptionBudgetStatus{ExpectedPods: 3, DesiredHealthy: 2, CurrentHealthy: 3, DisruptionsAllowed: 1}, metav1.ConditionTrue))

	pods := listPods(t, c, "default")
	evict := func(name string) error {
		return c.PolicyV1().Evictions("default").Evict(bg, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}})
	}
	if err := evict(pods[0].Name); err != nil {
		t.Fatalf("first eviction: %v", err)
	}
	err := evict(pods[1].Name)
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("second eviction: %v, want 429", err)
	}
	// the ReplicaSet replaces the evicted pod; once it is Ready the
	// budget allows one disruption again
	eventually(t, status(policyv1.PodDisruptionBudgetStatus{ExpectedPods: 3, DesiredHealthy: 2, CurrentHealthy: 3, DisruptionsAllowed: 1}, metav1.ConditionTrue))
	if err := evict(pods[1].Name); err != nil {
		t.Fatalf("eviction once the budget recovered: %v", err)
	}

	// an integer minAvailable over pods without a controller
	for _, n := range []string{"bare-1", "bare-2"} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "default", Labels: map[string]string{"app": "bare"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
		if err := discard(c.CoreV1().Pods("default").Create(bg, p, metav1.CreateOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	two := intstr.FromInt32(2)
	bare := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "bare"}}}}
	if err := discard(c.PolicyV1().PodDisruptionBudgets("default").Create(bg, bare, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		got, err := c.PolicyV1().PodDisruptionBudgets("default").Get(bg, "bare", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if st := got.Status; st.ExpectedPods != 2 || st.DesiredHealthy != 2 || st.CurrentHealthy != 2 || st.DisruptionsAllowed != 0 {
			return fmt.Sprintf("bare status %+v", st)
		}
		return ""
	})
	err = evict("bare-1")
	var se apierrors.APIStatus
	if !errors.As(err, &se) || se.Status().Code != 429 || se.Status().Message != "Cannot evict pod as it would violate the pod's disruption budget." {
		t.Fatalf("eviction past minAvailable: %v", err)
	}
}

// TestNodeEvictionHonoursBudget: the node lifecycle controller evicts the
// pods of an unreachable node through the eviction API: a budget that
// is not met blocks it (event EvictionBlocked, the pod stays) until the
// budget lets the pod go.
func TestNodeEvictionHonoursBudget(t *testing.T) {
	c := start(t)
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-p"}}
	if err := into(n)(c.CoreV1().Nodes().Create(bg, n, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if err := discard(c.CoreV1().Nodes().UpdateStatus(bg, n, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "guarded"}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: "default", Labels: labels},
		Spec: corev1.PodSpec{NodeName: "node-p", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if err := into(p)(c.CoreV1().Pods("default").Create(bg, p, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	if err := setPodStatus(c, p, corev1.PodRunning, true, "10.9.0.1"); err != nil {
		t.Fatal(err)
	}
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}}}
	if err := into(pdb)(c.PolicyV1().PodDisruptionBudgets("default").Create(bg, pdb, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	// heartbeats stop: the pod is marked not ready, the budget is not met
	// (0 healthy of 1), and the eviction after 2 s is refused
	eventually(t, func() string { return findEvent(c, "default", "guarded", "EvictionBlocked") })
	time.Sleep(time.Second)
	got, err := c.CoreV1().Pods("default").Get(bg, "guarded", metav1.GetOptions{})
	if err != nil || got.DeletionTimestamp != nil {
		t.Fatalf("the guarded pod was evicted against its budget: %v %v", err, got.DeletionTimestamp)
	}
	// the budget lets unhealthy pods go: the next round evicts it
	eventually(t, func() string {
		cur, err := c.PolicyV1().PodDisruptionBudgets("default").Get(bg, "guarded", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		always := policyv1.AlwaysAllow
		cur.Spec.UnhealthyPodEvictionPolicy = &always
		if _, err := c.PolicyV1().PodDisruptionBudgets("default").Update(bg, cur, metav1.UpdateOptions{}); err != nil {
			return err.Error()
		}
		return ""
	})
	eventually(t, func() string {
		got, err := c.CoreV1().Pods("default").Get(bg, "guarded", metav1.GetOptions{})
		if apierrors.IsNotFound(err) || err == nil && got.DeletionTimestamp != nil {
			return ""
		}
		return fmt.Sprintf("pod still there: %v", err)
	})
}
