package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// watchStatefulSets feeds the StatefulSet controller: a StatefulSet's own
// changes, its pods' and its ControllerRevisions'. It keeps no
// expectations: its pods have fixed names, so a stale cache ends in
// AlreadyExists or NotFound, never in a second pod.
func (m *Manager) watchStatefulSets(h *handlers) {
	h.onAny(m.in.statefulsets, func(obj any) { m.loops.statefulset.add(keyOf(obj)) })
	owner := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if o, ok := obj.(metav1.Object); ok {
			if ref := controllerOf(o); ref != nil && ref.Kind == "StatefulSet" {
				m.loops.statefulset.add(kube.Key(o.GetNamespace(), ref.Name))
			}
		}
	}
	h.onAny(m.in.pods, owner)
	h.onAny(m.in.revisions, owner)
}

// syncStatefulSet reconciles one StatefulSet (key namespace/name).
func (m *Manager) syncStatefulSet(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	ss, err := m.in.stsLister.StatefulSets(ns).Get(name)
	if err != nil {
		return 0, nil // gone: its pods are the garbage collector's
	}
	pods := m.ownedPods(ss.UID)
	var revs []*appsv1.ControllerRevision
	for _, r := range kube.ByIndex[*appsv1.ControllerRevision](m.in.revisions, kube.ByOwnerUID, string(ss.UID)) {
		if ownedBy(r, ss.UID) {
			revs = append(revs, r)
		}
	}
	if ss.DeletionTimestamp == nil {
		if err := m.syncStatefulSetHistory(ctx, ss, revs, pods); err != nil {
			return 0, err
		}
	}
	update := &StatefulRevision{Name: StatefulSetRevisionName(ss), Template: &ss.Spec.Template}
	var current *StatefulRevision
	if cur := ss.Status.CurrentRevision; cur != "" && cur != update.Name {
		for _, r := range revs {
			if r.Name != cur {
				continue
			}
			tpl, err := RevisionTemplate(r)
			if err != nil {
				return 0, err
			}
			current = &StatefulRevision{Name: r.Name, Template: tpl}
		}
	}
	claims, err := m.statefulClaims(ss)
	if err != nil {
		return 0, err
	}
	plan := PlanStatefulSet(ss, pods, current, update, claims, now)

	var errs []error
	for _, c := range plan.Create {
		if err := m.createStatefulPod(ctx, ss, c); err != nil {
			errs = append(errs, err)
			break
		}
	}
	for _, p := range plan.Delete {
		ok, err := m.deletePod(ctx, p)
		if err != nil {
			m.event(ctx, "apps/v1", "StatefulSet", ss, corev1.EventTypeWarning, "FailedDelete",
				fmt.Sprintf("delete Pod %s in StatefulSet %s failed error: %v", p.Name, ss.Name, err))
			errs = append(errs, err)
			continue
		}
		if ok {
			m.event(ctx, "apps/v1", "StatefulSet", ss, corev1.EventTypeNormal, "SuccessfulDelete",
				fmt.Sprintf("delete Pod %s in StatefulSet %s successful", p.Name, ss.Name))
		}
	}
	for _, c := range plan.DeleteClaims {
		err := m.c.CoreV1().PersistentVolumeClaims(ss.Namespace).Delete(ctx, c, metav1.DeleteOptions{})
		switch {
		case err == nil:
			m.event(ctx, "apps/v1", "StatefulSet", ss, corev1.EventTypeNormal, "SuccessfulDelete",
				fmt.Sprintf("delete Claim %s in StatefulSet %s successful", c, ss.Name))
		case !apierrors.IsNotFound(err):
			m.warnUnlessRace("delete persistentvolumeclaim", ss, err)
			errs = append(errs, err)
		}
	}
	var after time.Duration
	if ss.Spec.MinReadySeconds > 0 && plan.Status.ReadyReplicas > plan.Status.AvailableReplicas {
		after = m.cfg.Resync // pods become available as time passes
	}
	if equality.Semantic.DeepEqual(plan.Status, ss.Status) {
		return after, errors.Join(errs...)
	}
	up := ss.DeepCopy()
	up.Status = plan.Status
	if _, err := m.c.AppsV1().StatefulSets(ss.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
		m.warnUnlessRace("update statefulset status", ss, err)
		errs = append(errs, err)
	}
	return after, errors.Join(errs...)
}

// createStatefulPod creates the claims of pod c that the cache does not
// have, then the pod. A pod or claim that exists already was made in an
// earlier round the cache has not shown yet; a claim being deleted is
// waited for (the pod would otherwise lose its data to it).
func (m *Manager) createStatefulPod(ctx context.Context, ss *appsv1.StatefulSet, c StatefulPod) error {
	pvcs := m.c.CoreV1().PersistentVolumeClaims(ss.Namespace)
	pod := StatefulPodFor(ss, c.Revision, c.Ordinal)
	for _, claim := range StatefulClaimsFor(ss, c.Ordinal) {
		have, err := m.pvb.claimLister.PersistentVolumeClaims(ss.Namespace).Get(claim.Name)
		switch {
		case err == nil && have.DeletionTimestamp != nil:
			return fmt.Errorf("statefulset %s/%s: claim %s of pod %s is being deleted; waiting for it to go", ss.Namespace, ss.Name, claim.Name, pod.Name)
		case err == nil:
			continue
		case !apierrors.IsNotFound(err):
			return err
		}
		if _, err := pvcs.Create(ctx, claim, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			m.warn("create persistentvolumeclaim", ss, err)
			m.event(ctx, "apps/v1", "StatefulSet", ss, corev1.EventTypeWarning, "FailedCreate",
				fmt.Sprintf("create Claim %s for Pod %s in StatefulSet %s failed error: %v", claim.Name, pod.Name, ss.Name, err))
			return err
		}
		m.event(ctx, "apps/v1", "StatefulSet", ss, corev1.EventTypeNormal, "SuccessfulCreate",
			fmt.Sprintf("create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod.Name, ss.Name))
	}
	_, err := m.c.CoreV1().Pods(ss.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	switch {
	case err == nil:
		m.event(ctx, "apps/v1", "StatefulSet", ss, corev1.EventTypeNormal, "SuccessfulCreate",
			fmt.Sprintf("create Pod %s in StatefulSet %s successful", pod.Name, ss.Name))
		return nil
	case apierrors.IsAlreadyExists(err):
		return nil
	}
	m.warn("create stateful pod", ss, err)
	m.event(ctx, "apps/v1", "StatefulSet", ss, corev1.EventTypeWarning, "FailedCreate",
		fmt.Sprintf("create Pod %s in StatefulSet %s failed error: %v", pod.Name, ss.Name, err))
	return err
}

// statefulClaims are the names of ss's cached claims when whenScaled is
// Delete (by the selector labels every claim carries); nil otherwise,
// when nothing needs them.
func (m *Manager) statefulClaims(ss *appsv1.StatefulSet) ([]string, error) {
	rp := ss.Spec.PersistentVolumeClaimRetentionPolicy
	if rp == nil || rp.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType || len(ss.Spec.VolumeClaimTemplates) == 0 ||
		ss.Spec.Selector == nil || ss.DeletionTimestamp != nil {
		return nil, nil
	}
	l, err := m.pvb.claimLister.PersistentVolumeClaims(ss.Namespace).List(labels.SelectorFromSet(ss.Spec.Selector.MatchLabels))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(l))
	for _, c := range l {
		out = append(out, c.Name)
	}
	return out, nil
}

// syncStatefulSetHistory writes ss's ControllerRevisions
// (PlanStatefulSetHistory).
func (m *Manager) syncStatefulSetHistory(ctx context.Context, ss *appsv1.StatefulSet, revs []*appsv1.ControllerRevision, pods []*corev1.Pod) error {
	h, err := PlanStatefulSetHistory(ss, revs, pods)
	if err != nil {
		return err
	}
	return m.writeHistory(ctx, ss, h)
}
