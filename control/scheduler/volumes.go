package scheduler

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// SelectedNodeAnnotation is kube-scheduler's annotation on a claim whose
// StorageClass binds WaitForFirstConsumer: the node its first pod was
// scheduled to, where the provisioner makes its volume.
const SelectedNodeAnnotation = "volume.kubernetes.io/selected-node"

// withVolumes is kube-scheduler's volume binding filter for p, as a pod
// to schedule in its place: every claim must exist; a bound claim's
// PersistentVolume's node affinity is added to the pod's required node
// affinity (so the pod only goes where its volume is); an unbound claim
// must be of a WaitForFirstConsumer class (the provisioner follows the
// pod). msg is why the pod cannot be scheduled now.
func (s *Scheduler) withVolumes(p *corev1.Pod) (q *corev1.Pod, msg string) {
	q = p
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		name := v.PersistentVolumeClaim.ClaimName
		c, err := s.claimLister.PersistentVolumeClaims(p.Namespace).Get(name)
		if err != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q not found", name)
		}
		if c.DeletionTimestamp != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q is being deleted", name)
		}
		if c.Spec.VolumeName == "" {
			if !s.waitsForConsumer(c) {
				return nil, "pod has unbound immediate PersistentVolumeClaims"
			}
			continue
		}
		pv, err := s.volumeLister.Get(c.Spec.VolumeName)
		if err != nil {
			return nil, fmt.Sprintf("persistentvolume %q of claim %q not found", c.Spec.VolumeName, name)
		}
		if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
			continue
		}
		if q == p {
			q = p.DeepCopy()
		}
		requireNodes(q, pv.Spec.NodeAffinity.Required)
	}
	return q, ""
}

// waitsForConsumer reports whether claim c's class binds
// WaitForFirstConsumer.
func (s *Scheduler) waitsForConsumer(c *corev1.PersistentVolumeClaim) bool {
	if c.Spec.StorageClassName == nil || *c.Spec.StorageClassName == "" {
		return false
	}
	sc, err := s.classLister.Get(*c.Spec.StorageClassName)
	return err == nil && sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

// requireNodes ANDs ns into p's required node affinity: the terms of
// each are ORed, so the result is every pair of terms, merged.
func requireNodes(p *corev1.Pod, ns *corev1.NodeSelector) {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := p.Spec.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = ns.DeepCopy()
		return
	}
	var terms []corev1.NodeSelectorTerm
	for _, a := range na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, b := range ns.NodeSelectorTerms {
			terms = append(terms, corev1.NodeSelectorTerm{
				MatchExpressions: append(append([]corev1.NodeSelectorRequirement(nil), a.MatchExpressions...), b.MatchExpressions...),
				MatchFields:      append(append([]corev1.NodeSelectorRequirement(nil), a.MatchFields...), b.MatchFields...),
			})
		}
	}
	na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: terms}
}

// selectNode annotates p's unbound WaitForFirstConsumer claims with the
// node p goes to, before the binding (kube-scheduler's PreBind), so that
// the provisioner makes their volumes there; false when a claim could
// not be annotated (the pod is scheduled again).
func (s *Scheduler) selectNode(ctx context.Context, p *corev1.Pod, node string) bool {
	for _, v := range p.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		c, err := s.claimLister.PersistentVolumeClaims(p.Namespace).Get(v.PersistentVolumeClaim.ClaimName)
		if err != nil || c.Spec.VolumeName != "" || c.Annotations[SelectedNodeAnnotation] == node || !s.waitsForConsumer(c) {
			continue
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
			"resourceVersion": c.ResourceVersion, "annotations": map[string]string{SelectedNodeAnnotation: node}}})
		_, err = s.cfg.Client.CoreV1().PersistentVolumeClaims(c.Namespace).Patch(ctx, c.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil {
			if !apierrors.IsConflict(err) && ctx.Err() == nil {
				s.log.Warn("select node for claim", "claim", kube.Key(c.Namespace, c.Name), "node", node, "error", err)
			}
			return false
		}
	}
	return true
}
