package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchDisruption feeds the disruption controller (key: a
// PodDisruptionBudget's namespace/name): any change to a budget, and a
// pod's changes to the budgets of its namespace whose selector matches
// it (before or after the change).
func (m *Manager) watchDisruption(h *handlers) {
	l := m.loops.disruption
	h.onAny(m.in.pdbs, func(obj any) { l.add(keyOf(obj)) })
	budgets := func(obj any) {
		o, ok := kube.ObjectOf(obj)
		if !ok {
			return
		}
		pdbs, err := m.in.pdbLister.PodDisruptionBudgets(o.GetNamespace()).List(labels.Everything())
		if err != nil {
			return
		}
		for _, b := range pdbs {
			sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
			if err == nil && sel.Matches(labels.Set(o.GetLabels())) {
				l.add(kube.Key(b.Namespace, b.Name))
			}
		}
	}
	h.on(m.in.pods, budgets, func(old, cur any) { budgets(old); budgets(cur) }, func(obj any) {
		budgets(obj)
		if o, ok := kube.ObjectOf(obj); ok {
			m.evictBlocked.Delete(o.GetUID())
		}
	})
}

// syncDisruption brings one PodDisruptionBudget's status up to date
// (PlanDisruption), records its events and looks at it again when an
// approved eviction's timeout ends.
func (m *Manager) syncDisruption(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	pdb, err := m.in.pdbLister.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var pods []*corev1.Pod
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil {
		if pods, err = m.in.podLister.Pods(ns).List(sel); err != nil {
			return 0, err
		}
	}
	scale := func(ns string, ref *metav1.OwnerReference) (types.UID, int32, bool) { return m.scaleOf(ctx, ns, ref) }
	plan := PlanDisruption(pdb, pods, scale, now)
	const api, kind = "policy/v1", "PodDisruptionBudget"
	if plan.NoPods && pdb.Status.ObservedGeneration != pdb.Generation {
		m.event(ctx, api, kind, pdb, corev1.EventTypeNormal, "NoPods", "No matching pods found")
	}
	if len(plan.Unmanaged) > 0 && plan.Status != nil {
		m.event(ctx, api, kind, pdb, corev1.EventTypeNormal, "UnmanagedPods",
			fmt.Sprintf("Pods selected by this PodDisruptionBudget (selector: %v) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.", metav1.FormatLabelSelector(pdb.Spec.Selector)))
	}
	if plan.Err != nil && plan.Status != nil {
		m.event(ctx, api, kind, pdb, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed",
			fmt.Sprintf("Failed to calculate the number of expected pods: %v", plan.Err))
	}
	for _, p := range plan.NotDeleted {
		m.event(ctx, "v1", "Pod", p, corev1.EventTypeWarning, "NotDeleted",
			fmt.Sprintf("Pod was expected by PDB %s/%s to be deleted but it wasn't", pdb.Namespace, pdb.Name))
	}
	if plan.Status != nil {
		up := pdb.DeepCopy()
		up.Status = *plan.Status
		// conditional on the resourceVersion read: a Conflict means an
		// eviction took a disruption meanwhile, and the key is retried
		if _, err := m.c.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
			m.warnUnlessRace("update disruption budget status", pdb, err)
			return 0, err
		}
	}
	return plan.Recheck, nil
}

// scaleOf finds the scale of a pod's controller: a ReplicaSet's
// spec.replicas, or its Deployment's when a Deployment controls it, and a
// DaemonSet's status.desiredNumberScheduled, from the caches; a
// StatefulSet's spec.replicas by a live read (there is no StatefulSet
// informer here: not every API weir runs against serves them).
func (m *Manager) scaleOf(ctx context.Context, ns string, ref *metav1.OwnerReference) (types.UID, int32, bool) {
	replicas := func(r *int32) int32 {
		if r == nil {
			return 1
		}
		return *r
	}
	switch {
	case ref.APIVersion == appsv1.SchemeGroupVersion.String() && ref.Kind == "ReplicaSet":
		rs, err := m.in.rsLister.ReplicaSets(ns).Get(ref.Name)
		if err != nil || rs.UID != ref.UID {
			return "", 0, false
		}
		if d := metav1.GetControllerOf(rs); d != nil && d.Kind == "Deployment" && d.APIVersion == appsv1.SchemeGroupVersion.String() {
			dep, err := m.in.deployLister.Deployments(ns).Get(d.Name)
			if err != nil || dep.UID != d.UID {
				return "", 0, false
			}
			return dep.UID, replicas(dep.Spec.Replicas), true
		}
		return rs.UID, replicas(rs.Spec.Replicas), true
	case ref.APIVersion == appsv1.SchemeGroupVersion.String() && ref.Kind == "DaemonSet":
		ds, err := m.in.dsLister.DaemonSets(ns).Get(ref.Name)
		if err != nil || ds.UID != ref.UID {
			return "", 0, false
		}
		return ds.UID, ds.Status.DesiredNumberScheduled, true
	case ref.APIVersion == appsv1.SchemeGroupVersion.String() && ref.Kind == "StatefulSet":
		ss, err := m.c.AppsV1().StatefulSets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil || ss.UID != ref.UID {
			return "", 0, false
		}
		return ss.UID, replicas(ss.Spec.Replicas), true
	}
	return "", 0, false
}

// evictionBlockedEvery is how often the node lifecycle controller records
// that a disruption budget blocks one pod's eviction (it retries every
// Resync).
const evictionBlockedEvery = 30 * time.Second

// evictPod evicts p through the eviction API (policy/v1 Eviction, with a
// UID precondition), so that the pod's PodDisruptionBudget is honoured.
// ok is true when the pod goes; a budget that allows no disruption now
// (429) is no error: the caller's next round tries again, and a Warning
// event EvictionBlocked on the pod says why, at most every
// evictionBlockedEvery.
func (m *Manager) evictPod(ctx context.Context, p *corev1.Pod, now time.Time) (ok bool, err error) {
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}}}
	err = m.c.PolicyV1().Evictions(p.Namespace).Evict(ctx, ev)
	switch {
	case err == nil:
		m.evictBlocked.Delete(p.UID)
		return true, nil
	case apierrors.IsNotFound(err):
		m.evictBlocked.Delete(p.UID)
		return false, nil
	case apierrors.IsTooManyRequests(err):
		last, seen := m.evictBlocked.Load(p.UID)
		if !seen || now.Sub(last.(time.Time)) >= evictionBlockedEvery {
			m.evictBlocked.Store(p.UID, now)
			m.event(ctx, "v1", "Pod", p, corev1.EventTypeWarning, "EvictionBlocked",
				fmt.Sprintf("Cannot evict Pod %s/%s from node %s yet: %s", p.Namespace, p.Name, p.Spec.NodeName, budgetReason(err)))
		}
		return false, nil
	}
	m.warnUnlessRace("evict pod", p, err)
	return false, err
}

// budgetReason is the message of a refused eviction with its
// DisruptionBudget cause, when it has one.
func budgetReason(err error) string {
	msg := err.Error()
	if se, ok := err.(apierrors.APIStatus); ok && se.Status().Details != nil {
		for _, c := range se.Status().Details.Causes {
			if c.Type == policyv1.DisruptionBudgetCause {
				msg += " " + c.Message
			}
		}
	}
	return msg
}
