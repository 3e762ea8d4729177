package controllers

import (
	"encoding/json"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Labels and annotations the Deployment controller owns.
const (
	PodTemplateHashLabel = appsv1.DefaultDeploymentUniqueLabelKey // "pod-template-hash"
	RevisionAnnotation   = "deployment.kubernetes.io/revision"
	// ChangeCauseAnnotation records why a Deployment changed; the
	// controller copies it to the ReplicaSet of the current template, where
	// `weir rollout history` reads it.
	ChangeCauseAnnotation = "kubernetes.io/change-cause"
)

// DeploymentPlan is what a Deployment needs: a new ReplicaSet to create,
// ReplicaSets to change (replicas, revision), old ones to delete, and the
// Deployment's new status.
type DeploymentPlan struct {
	Create *appsv1.ReplicaSet
	Update []*appsv1.ReplicaSet
	Delete []*appsv1.ReplicaSet
	Status appsv1.DeploymentStatus
}

// TemplateHash is the pod-template-hash of a pod template.
func TemplateHash(tpl *corev1.PodTemplateSpec) string {
	t := tpl.DeepCopy()
	delete(t.Labels, PodTemplateHashLabel)
	data, _ := json.Marshal(t)
	h := fnv.New32a()
	h.Write(data)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// Revision is an object's deployment revision annotation (0 when unset).
func Revision(rs *appsv1.ReplicaSet) int64 {
	n, _ := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
	return n
}

// rolloutState is a Deployment's ReplicaSets as the planner changes them.
type rolloutState struct {
	d       *appsv1.Deployment
	desired int32
	newRS   *appsv1.ReplicaSet
	olds    []*appsv1.ReplicaSet // oldest revision first
	changed map[*appsv1.ReplicaSet]bool
}

// PlanDeployment compares d with the ReplicaSets it controls at now.
func PlanDeployment(d *appsv1.Deployment, owned []*appsv1.ReplicaSet, now time.Time) DeploymentPlan {
	s := &rolloutState{d: d, desired: derefInt32(d.Spec.Replicas, 1), changed: map[*appsv1.ReplicaSet]bool{}}
	hash := TemplateHash(&d.Spec.Template)
	var maxRev int64
	for _, rs := range owned {
		maxRev = max(maxRev, Revision(rs))
		if rs.Labels[PodTemplateHashLabel] == hash && s.newRS == nil {
			s.newRS = rs.DeepCopy()
		} else {
			s.olds = append(s.olds, rs.DeepCopy())
		}
	}
	sort.SliceStable(s.olds, func(i, j int) bool { return Revision(s.olds[i]) < Revision(s.olds[j]) })
	var plan DeploymentPlan
	plan.Status = deploymentStatus(d, s.newRS, owned, now)
	if s.newRS == nil {
		// a paused Deployment makes no ReplicaSet for a changed template
		// until it is resumed (kube's sync with createIfNotExisted=false)
		if !d.Spec.Paused {
			plan.Create = newReplicaSet(d, hash, maxRev+1, s.initialReplicas())
		}
		return plan
	}
	if Revision(s.newRS) < maxRev {
		setAnnotation(s.newRS, RevisionAnnotation, strconv.FormatInt(maxRev+1, 10))
		s.changed[s.newRS] = true
	}
	if cause, ok := d.Annotations[ChangeCauseAnnotation]; ok && s.newRS.Annotations[ChangeCauseAnnotation] != cause {
		setAnnotation(s.newRS, ChangeCauseAnnotation, cause)
		s.changed[s.newRS] = true
	}
	if d.Spec.Paused {
		return s.finish(plan)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		s.recreate()
	} else {
		s.rolling()
	}
	plan.Delete = s.history()
	return s.finish(plan)
}

func (s *rolloutState) finish(plan DeploymentPlan) DeploymentPlan {
	if s.changed[s.newRS] {
		plan.Update = append(plan.Update, s.newRS)
	}
	for _, rs := range s.olds {
		if s.changed[rs] {
			plan.Update = append(plan.Update, rs)
		}
	}
	return plan
}

func (s *rolloutState) oldReplicas() int32 {
	var n int32
	for _, rs := range s.olds {
		n += derefInt32(rs.Spec.Replicas, 0)
	}
	return n
}

func (s *rolloutState) oldRunning() int32 {
	var n int32
	for _, rs := range s.olds {
		n += rs.Status.Replicas
	}
	return n
}

// initialReplicas sizes a new ReplicaSet.
func (s *rolloutState) initialReplicas() int32 {
	if s.d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		if s.oldReplicas() > 0 || s.oldRunning() > 0 {
			return 0
		}
		return s.desired
	}
	surge, _ := surgeAndUnavailable(s.d, s.desired)
	return max(0, min(s.desired, s.desired+surge-s.oldReplicas()))
}

func (s *rolloutState) scale(rs *appsv1.ReplicaSet, n int32) {
	if derefInt32(rs.Spec.Replicas, 0) != n {
		rs.Spec.Replicas = &n
		s.changed[rs] = true
	}
}

// recreate scales every old ReplicaSet to zero, waits for their pods to
// be gone, then scales the new one up.
func (s *rolloutState) recreate() {
	for _, rs := range s.olds {
		s.scale(rs, 0)
	}
	if s.oldRunning() == 0 {
		s.scale(s.newRS, s.desired)
	}
}

// surgeAndUnavailable resolves maxSurge (rounded up) and maxUnavailable
// (rounded down) against desired; both zero means one unavailable.
func surgeAndUnavailable(d *appsv1.Deployment, desired int32) (int32, int32) {
	ru := d.Spec.Strategy.RollingUpdate
	def := intstr.FromString("25%")
	surgeV, unavailV := &def, &def
	if ru != nil && ru.MaxSurge != nil {
		surgeV = ru.MaxSurge
	}
	if ru != nil && ru.MaxUnavailable != nil {
		unavailV = ru.MaxUnavailable
	}
	surge, err1 := intstr.GetScaledValueFromIntOrPercent(surgeV, int(desired), true)
	unavail, err2 := intstr.GetScaledValueFromIntOrPercent(unavailV, int(desired), false)
	if err1 != nil || err2 != nil {
		surge, unavail = 1, 0
	}
	if surge == 0 && unavail == 0 {
		unavail = 1
	}
	return int32(surge), min(int32(unavail), desired)
}

func newReplicaSet(d *appsv1.Deployment, hash string, revision int64, replicas int32) *appsv1.ReplicaSet {
	tpl := d.Spec.Template.DeepCopy()
	if tpl.Labels == nil {
		tpl.Labels = map[string]string{}
	}
	tpl.Labels[PodTemplateHashLabel] = hash
	sel := d.Spec.Selector.DeepCopy()
	if sel == nil {
		sel = &metav1.LabelSelector{}
	}
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[PodTemplateHashLabel] = hash
	annotations := map[string]string{RevisionAnnotation: strconv.FormatInt(revision, 10)}
	if cause, ok := d.Annotations[ChangeCauseAnnotation]; ok {
		annotations[ChangeCauseAnnotation] = cause
	}
	return &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: d.Name + "-" + hash, Namespace: d.Namespace, Labels: copyMap(tpl.Labels),
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{ownerRef("apps/v1", "Deployment", d)},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: *tpl},
	}
}

func setAnnotation(rs *appsv1.ReplicaSet, k, v string) {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	rs.Annotations[k] = v
}
