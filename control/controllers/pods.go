package controllers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PodReady reports whether p's Ready condition is True.
func PodReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// PodAvailable reports whether p has been Ready for minReady at now.
func PodAvailable(p *corev1.Pod, minReady time.Duration, now time.Time) bool {
	c := readyCondition(p)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	return minReady <= 0 || !c.LastTransitionTime.Add(minReady).After(now)
}

func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// PodActive reports whether p still runs or may run: not finished and not
// being deleted.
func PodActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// controllerOf is obj's controlling owner reference, if any.
func controllerOf(obj metav1.Object) *metav1.OwnerReference {
	for _, r := range obj.GetOwnerReferences() {
		if r.Controller != nil && *r.Controller {
			return &r
		}
	}
	return nil
}

// ownedBy reports whether obj is controlled by the owner with uid.
func ownedBy(obj metav1.Object, uid types.UID) bool {
	r := controllerOf(obj)
	return r != nil && r.UID == uid
}

// ownerRef is a controlling owner reference to owner.
func ownerRef(apiVersion, kind string, owner metav1.Object) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(),
		Controller: &t, BlockOwnerDeletion: &t}
}

// podFromTemplate is a new pod for owner from template, named
// <prefix>-<random> by the API.
func podFromTemplate(tpl *corev1.PodTemplateSpec, ns, prefix string, ref metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: prefix + "-", Namespace: ns,
			Labels: copyMap(tpl.Labels), Annotations: copyMap(tpl.Annotations),
			OwnerReferences: []metav1.OwnerReference{ref},
		},
		Spec: *tpl.Spec.DeepCopy(),
	}
	return p
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
