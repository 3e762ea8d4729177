package controllers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"
)

// DisruptionDeletionTimeout is how long a pod the eviction API approved
// (status.disruptedPods) is not counted as healthy while it has not
// started terminating; after it the budget counts it again (kube's
// DeletionTimeout).
const DisruptionDeletionTimeout = 2 * time.Minute

// ScaleOf is the desired number of pods of a pod's controller (its
// controlling ownerReference): found is false when the owner is of a
// kind without a scale (or is gone), and uid names the workload the
// pods count against (a Deployment for the pods of its ReplicaSets).
type ScaleOf func(ns string, ref *metav1.OwnerReference) (uid types.UID, scale int32, found bool)

// DisruptionPlan is what a PodDisruptionBudget's status should be, the
// events to record and when to look again.
type DisruptionPlan struct {
	// Status is the new status; nil when the stored one is current.
	Status *policyv1.PodDisruptionBudgetStatus
	// Unmanaged are selected pods without a controller, which a
	// maxUnavailable or percentage budget cannot count (event
	// UnmanagedPods).
	Unmanaged []string
	// NotDeleted are pods the eviction API approved that did not start
	// terminating within DisruptionDeletionTimeout (event NotDeleted).
	NotDeleted []*corev1.Pod
	// NoPods says the selector matches no pod (event NoPods).
	NoPods bool
	// Err is why the expected pods cannot be computed (the status then
	// allows no disruption: kube's fail-safe, reason SyncFailed).
	Err error
	// Recheck is when an approved eviction's timeout ends (0: never).
	Recheck time.Duration
}

// PlanDisruption computes pdb's status from the pods its selector
// matches, as kube's disruption controller does: expectedPods is the
// sum of the scales of the pods' controllers (for maxUnavailable and for
// a percentage minAvailable) or the number of pods (an integer
// minAvailable); desiredHealthy is minAvailable (scaled) or expectedPods
// minus maxUnavailable (scaled up); currentHealthy counts the Ready pods
// that are not terminating and not approved for eviction within
// DisruptionDeletionTimeout; disruptionsAllowed is currentHealthy minus
// desiredHealthy, never below 0 and 0 while expectedPods is 0; the
// DisruptionAllowed condition follows it; observedGeneration is the
// budget's generation.
func PlanDisruption(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, scale ScaleOf, now time.Time) DisruptionPlan {
	var plan DisruptionPlan
	plan.NoPods = len(pods) == 0
	expected, desired, unmanaged, err := expectedPods(pdb, pods, scale)
	plan.Unmanaged = unmanaged
	if err != nil {
		plan.Err = err
		st := pdb.Status.DeepCopy()
		st.DisruptionsAllowed = 0
		apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: policyv1.DisruptionAllowedCondition,
			Status: metav1.ConditionFalse, Reason: policyv1.SyncFailedReason, Message: err.Error(),
			ObservedGeneration: st.ObservedGeneration})
		if !apiequality.Semantic.DeepEqual(st, &pdb.Status) {
			plan.Status = st
		}
		return plan
	}
	disrupted := map[string]metav1.Time{}
	var recheck time.Time
	for _, p := range pods {
		at, ok := pdb.Status.DisruptedPods[p.Name]
		if !ok || p.DeletionTimestamp != nil {
			continue
		}
		due := at.Add(DisruptionDeletionTimeout)
		if due.Before(now) {
			plan.NotDeleted = append(plan.NotDeleted, p)
			continue
		}
		disrupted[p.Name] = at
		if recheck.IsZero() || due.Before(recheck) {
			recheck = due
		}
	}
	if !recheck.IsZero() {
		plan.Recheck = recheck.Sub(now)
	}
	var healthy int32
	for _, p := range pods {
		if _, ok := disrupted[p.Name]; ok || p.DeletionTimestamp != nil {
			continue
		}
		if PodReady(p) {
			healthy++
		}
	}
	allowed := healthy - desired
	if expected <= 0 || allowed < 0 {
		allowed = 0
	}
	st := policyv1.PodDisruptionBudgetStatus{CurrentHealthy: healthy, DesiredHealthy: desired, ExpectedPods: expected,
		DisruptionsAllowed: allowed, ObservedGeneration: pdb.Generation, Conditions: pdb.Status.Conditions}
	if len(disrupted) > 0 {
		st.DisruptedPods = disrupted
	}
	cur := pdb.Status
	if cur.CurrentHealthy == st.CurrentHealthy && cur.DesiredHealthy == st.DesiredHealthy && cur.ExpectedPods == st.ExpectedPods &&
		cur.DisruptionsAllowed == st.DisruptionsAllowed && len(cur.DisruptedPods) == len(st.DisruptedPods) &&
		(len(st.DisruptedPods) == 0 || apiequality.Semantic.DeepEqual(cur.DisruptedPods, st.DisruptedPods)) &&
		cur.ObservedGeneration == pdb.Generation && pdbhelper.ConditionsAreUpToDate(pdb) {
		return plan
	}
	up := pdb.DeepCopy()
	up.Status = st
	up.Status.Conditions = append([]metav1.Condition(nil), st.Conditions...)
	pdbhelper.UpdateDisruptionAllowedCondition(up)
	plan.Status = &up.Status
	return plan
}

// expectedPods is kube's getExpectedPodCount.
func expectedPods(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, scale ScaleOf) (expected, desired int32, unmanaged []string, err error) {
	switch s := pdb.Spec; {
	case s.MaxUnavailable != nil:
		if expected, unmanaged, err = expectedScale(pods, scale); err != nil {
			return
		}
		var n int
		if n, err = intstr.GetScaledValueFromIntOrPercent(s.MaxUnavailable, int(expected), true); err != nil {
			return
		}
		desired = max(expected-int32(n), 0)
	case s.MinAvailable != nil && s.MinAvailable.Type == intstr.Int:
		desired, expected = s.MinAvailable.IntVal, int32(len(pods))
	case s.MinAvailable != nil:
		if expected, unmanaged, err = expectedScale(pods, scale); err != nil {
			return
		}
		var n int
		if n, err = intstr.GetScaledValueFromIntOrPercent(s.MinAvailable, int(expected), true); err != nil {
			return
		}
		desired = int32(n)
	}
	return
}

// expectedScale is the sum of the scales of the controllers of pods
// (each counted once); pods without a controller are listed, a
// controller without a scale is an error (kube's getExpectedScale).
func expectedScale(pods []*corev1.Pod, scale ScaleOf) (int32, []string, error) {
	seen := map[types.UID]int32{}
	var unmanaged []string
	for _, p := range pods {
		ref := metav1.GetControllerOf(p)
		if ref == nil {
			unmanaged = append(unmanaged, p.Name)
			continue
		}
		uid, n, ok := scale(p.Namespace, ref)
		if !ok {
			return 0, unmanaged, fmt.Errorf("found no controllers for pod %q", p.Name)
		}
		seen[uid] = n
	}
	var total int32
	for _, n := range seen {
		total += n
	}
	return total, unmanaged, nil
}
