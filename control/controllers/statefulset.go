package controllers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// StatefulSet pod labels, as kube's StatefulSet controller sets them.
const (
	// StatefulSetPodNameLabel is the pod's own name, so that a Service can
	// select one member of the set.
	StatefulSetPodNameLabel = appsv1.StatefulSetPodNameLabel
	// PodIndexLabel is the pod's ordinal.
	PodIndexLabel = appsv1.PodIndexLabel
)

// StatefulSetPlan is what a StatefulSet needs this round: the ordinals to
// create a pod for (each with the revision whose template it gets; their
// claims are made first), the pods to delete, the claims of scaled-away
// ordinals to delete (whenScaled: Delete), and its status.
type StatefulSetPlan struct {
	Create       []StatefulPod
	Delete       []*corev1.Pod
	DeleteClaims []string
	Status       appsv1.StatefulSetStatus
}

// StatefulPod is one pod to create: its ordinal and its revision.
type StatefulPod struct {
	Ordinal  int
	Revision *StatefulRevision
}

// StatefulRevision is one revision of a StatefulSet's pod template: its
// ControllerRevision name (the pods' controller-revision-hash label) and
// the template it holds.
type StatefulRevision struct {
	Name     string
	Template *corev1.PodTemplateSpec
}

// StatefulSetRevisionName is the ControllerRevision name of ss's current
// template: <statefulset>-<template hash>.
func StatefulSetRevisionName(ss *appsv1.StatefulSet) string {
	return ss.Name + "-" + TemplateHash(&ss.Spec.Template)
}

// StatefulPodOrdinal is p's ordinal in the set named set: the number after
// "<set>-", or -1 when p's name is not that of a member.
func StatefulPodOrdinal(set string, p *corev1.Pod) int {
	rest, ok := strings.CutPrefix(p.Name, set+"-")
	if !ok || rest == "" || (len(rest) > 1 && rest[0] == '0') {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// StatefulClaimName is the name of the PersistentVolumeClaim of claim
// template tpl for ordinal ord of set: <template>-<set>-<ordinal>.
func StatefulClaimName(tpl, set string, ord int) string {
	return tpl + "-" + set + "-" + strconv.Itoa(ord)
}

// statefulRunningReady: Running with its Ready condition True.
func statefulRunningReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && PodReady(p)
}

// statefulHealthy: Running, Ready for minReady, and not being deleted.
func statefulHealthy(p *corev1.Pod, minReady time.Duration, now time.Time) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && PodAvailable(p, minReady, now)
}

// PlanStatefulSet compares ss with the pods it controls at now, as kube's
// StatefulSet controller does. Pods are named <set>-<ordinal> for the
// ordinals [start, start+replicas); a missing one is created from the
// current revision when its ordinal is below the RollingUpdate partition,
// otherwise from the update revision; failed and succeeded pods are
// deleted (and so recreated under the same name); pods of ordinals beyond
// the range are deleted highest first. With OrderedReady (monotonic) the
// set does one thing at a time: it creates ordinal n only once every
// lower ordinal is Running and Ready (and available for minReadySeconds),
// and removes the highest extra pod only when every other is; with
// Parallel it creates and deletes all at once. A RollingUpdate then
// deletes, highest ordinal first and one at a time, the pods at or above
// the partition that run another revision, waiting for each replacement
// to be healthy; OnDelete leaves them until someone deletes them.
// claims are the names of the set's existing PVCs (for whenScaled:
// Delete).
func PlanStatefulSet(ss *appsv1.StatefulSet, pods []*corev1.Pod, current, update *StatefulRevision, claims []string, now time.Time) StatefulSetPlan {
	replicas := int(derefInt32(ss.Spec.Replicas, 1))
	start := 0
	if ss.Spec.Ordinals != nil {
		start = int(ss.Spec.Ordinals.Start)
	}
	minReady := time.Duration(ss.Spec.MinReadySeconds) * time.Second
	monotonic := ss.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	partition := 0
	rolling := ss.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType
	if ru := ss.Spec.UpdateStrategy.RollingUpdate; rolling && ru != nil && ru.Partition != nil {
		partition = int(*ru.Partition)
	}

	inRange := make([]*corev1.Pod, replicas) // by ordinal - start
	var condemned []*corev1.Pod
	var members []*corev1.Pod
	for _, p := range pods {
		ord := StatefulPodOrdinal(ss.Name, p)
		if ord < 0 {
			continue // not a member by name: left alone, as kube does
		}
		members = append(members, p)
		if ord >= start && ord < start+replicas {
			inRange[ord-start] = p
		} else {
			condemned = append(condemned, p)
		}
	}
	sort.Slice(condemned, func(a, b int) bool {
		return StatefulPodOrdinal(ss.Name, condemned[a]) > StatefulPodOrdinal(ss.Name, condemned[b])
	})

	plan := StatefulSetPlan{Status: statefulSetStatus(ss, members, current, update, minReady, now)}
	if ss.DeletionTimestamp != nil {
		return plan // being deleted: the garbage collector's
	}
	plan.DeleteClaims = scaledAwayClaims(ss, members, claims, start, replicas)

	// the pods of the range, lowest ordinal first
	blocked := false
	for i, p := range inRange {
		ord := start + i
		switch {
		case p == nil:
			rev := update
			if rolling && ord-start < partition && current != nil {
				rev = current
			}
			plan.Create = append(plan.Create, StatefulPod{Ordinal: ord, Revision: rev})
			blocked = monotonic
		case p.DeletionTimestamp != nil:
			blocked = monotonic // recreated once it is gone
		case p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded:
			plan.Delete = append(plan.Delete, p)
			blocked = monotonic
		case !statefulHealthy(p, minReady, now):
			blocked = monotonic
		}
		if blocked {
			return plan
		}
	}
	// the pods beyond it, highest ordinal first
	for _, p := range condemned {
		if p.DeletionTimestamp != nil {
			if monotonic {
				return plan
			}
			continue
		}
		plan.Delete = append(plan.Delete, p)
		if monotonic {
			return plan
		}
	}
	if len(plan.Create) > 0 || len(plan.Delete) > 0 || !rolling || update == nil {
		return plan
	}
	// the rolling update, highest ordinal first, one pod at a time
	for i := replicas - 1; i >= partition; i-- {
		p := inRange[i]
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] != update.Name && p.DeletionTimestamp == nil {
			plan.Delete = append(plan.Delete, p)
			return plan
		}
		if !statefulHealthy(p, minReady, now) {
			return plan
		}
	}
	return plan
}

// statefulSetStatus counts ss's member pods as kube does: replicas every
// pod, ready those Running and Ready, available those ready for
// minReady, current and updated the live pods of each revision. The
// current revision becomes the update revision once every replica runs
// it and is ready.
func statefulSetStatus(ss *appsv1.StatefulSet, pods []*corev1.Pod, current, update *StatefulRevision, minReady time.Duration, now time.Time) appsv1.StatefulSetStatus {
	st := appsv1.StatefulSetStatus{ObservedGeneration: ss.Generation, CollisionCount: ss.Status.CollisionCount,
		Conditions: ss.Status.Conditions}
	if update != nil {
		st.UpdateRevision = update.Name
		st.CurrentRevision = update.Name
	}
	if current != nil {
		st.CurrentRevision = current.Name
	}
	for _, p := range pods {
		st.Replicas++
		if statefulRunningReady(p) {
			st.ReadyReplicas++
			if PodAvailable(p, minReady, now) {
				st.AvailableReplicas++
			}
		}
		if p.DeletionTimestamp != nil {
			continue
		}
		switch rev := p.Labels[appsv1.ControllerRevisionHashLabelKey]; {
		case rev == st.CurrentRevision && rev == st.UpdateRevision:
			st.CurrentReplicas++
			st.UpdatedReplicas++
		case rev == st.CurrentRevision:
			st.CurrentReplicas++
		case rev == st.UpdateRevision:
			st.UpdatedReplicas++
		}
	}
	want := derefInt32(ss.Spec.Replicas, 1)
	if st.CurrentRevision != st.UpdateRevision && st.UpdatedReplicas == want && st.ReadyReplicas == want && st.Replicas == want {
		st.CurrentRevision, st.CurrentReplicas = st.UpdateRevision, st.UpdatedReplicas
	}
	return st
}

// scaledAwayClaims are, with whenScaled: Delete, the claims of ordinals
// beyond the range whose pods are gone.
func scaledAwayClaims(ss *appsv1.StatefulSet, members []*corev1.Pod, claims []string, start, replicas int) []string {
	rp := ss.Spec.PersistentVolumeClaimRetentionPolicy
	if rp == nil || rp.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType || len(claims) == 0 {
		return nil
	}
	live := map[int]bool{}
	for _, p := range members {
		live[StatefulPodOrdinal(ss.Name, p)] = true
	}
	var out []string
	for _, c := range claims {
		for _, ct := range ss.Spec.VolumeClaimTemplates {
			rest, ok := strings.CutPrefix(c, ct.Name+"-"+ss.Name+"-")
			if !ok {
				continue
			}
			ord, err := strconv.Atoi(rest)
			if err != nil || strconv.Itoa(ord) != rest {
				continue
			}
			if (ord < start || ord >= start+replicas) && !live[ord] {
				out = append(out, c)
			}
		}
	}
	sort.Strings(out)
	return out
}

// StatefulPodFor is ss's pod of ordinal ord from revision rev's template:
// named <set>-<ordinal>, with the statefulset.kubernetes.io/pod-name,
// apps.kubernetes.io/pod-index and controller-revision-hash labels,
// hostname its name and subdomain the set's serviceName (so that cluster
// DNS answers <pod>.<service>.<namespace>.svc), and a
// persistentVolumeClaim volume per claim template in place of the
// template's volume of that name.
func StatefulPodFor(ss *appsv1.StatefulSet, rev *StatefulRevision, ord int) *corev1.Pod {
	name := ss.Name + "-" + strconv.Itoa(ord)
	p := podFromTemplate(rev.Template, ss.Namespace, ss.Name, ownerRef("apps/v1", "StatefulSet", ss))
	p.GenerateName, p.Name = "", name
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[StatefulSetPodNameLabel] = name
	p.Labels[PodIndexLabel] = strconv.Itoa(ord)
	p.Labels[appsv1.ControllerRevisionHashLabelKey] = rev.Name
	p.Spec.Hostname, p.Spec.Subdomain = name, ss.Spec.ServiceName
	for _, ct := range ss.Spec.VolumeClaimTemplates {
		v := corev1.Volume{Name: ct.Name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: StatefulClaimName(ct.Name, ss.Name, ord)}}}
		replaced := false
		for i := range p.Spec.Volumes {
			if p.Spec.Volumes[i].Name == ct.Name {
				p.Spec.Volumes[i], replaced = v, true
			}
		}
		if !replaced {
			p.Spec.Volumes = append(p.Spec.Volumes, v)
		}
	}
	return p
}

// StatefulClaimsFor are the PersistentVolumeClaims of ordinal ord of ss,
// from its claim templates: labelled with the template's labels and the
// set's selector labels; owned by the set when whenDeleted is Delete (so
// that the garbage collector removes them with it).
func StatefulClaimsFor(ss *appsv1.StatefulSet, ord int) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for _, ct := range ss.Spec.VolumeClaimTemplates {
		c := &corev1.PersistentVolumeClaim{
			TypeMeta: metav1.TypeMeta{Kind: "PersistentVolumeClaim", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: StatefulClaimName(ct.Name, ss.Name, ord), Namespace: ss.Namespace,
				Labels: copyMap(ct.Labels), Annotations: copyMap(ct.Annotations)},
			Spec: *ct.Spec.DeepCopy(),
		}
		if ss.Spec.Selector != nil && len(ss.Spec.Selector.MatchLabels) > 0 {
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			for k, v := range ss.Spec.Selector.MatchLabels {
				c.Labels[k] = v
			}
		}
		if rp := ss.Spec.PersistentVolumeClaimRetentionPolicy; rp != nil && rp.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
			ref := ownerRef("apps/v1", "StatefulSet", ss)
			ref.Controller = nil
			c.OwnerReferences = []metav1.OwnerReference{ref}
		}
		out = append(out, c)
	}
	return out
}

// StatefulSetHistory is what a StatefulSet's ControllerRevisions need.
type StatefulSetHistory = History

// PlanStatefulSetHistory compares ss's revisions with its template: the
// update revision is named StatefulSetRevisionName(ss), labelled with the
// template's labels and controller-revision-hash, and holds the template
// as the strategic merge patch `kubectl rollout undo` applies; the
// oldest revisions that neither the status nor a live pod names go
// beyond revisionHistoryLimit.
func PlanStatefulSetHistory(ss *appsv1.StatefulSet, revs []*appsv1.ControllerRevision, pods []*corev1.Pod) (StatefulSetHistory, error) {
	name := StatefulSetRevisionName(ss)
	inUse := map[string]bool{name: true, ss.Status.CurrentRevision: true, ss.Status.UpdateRevision: true}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			inUse[p.Labels[appsv1.ControllerRevisionHashLabelKey]] = true
		}
	}
	return planHistory(revs, revisionOf{name: name, kind: "StatefulSet", owner: ss, namespace: ss.Namespace,
		labels: ss.Spec.Template.Labels, hashKey: appsv1.ControllerRevisionHashLabelKey, hash: name,
		data: func() (runtime.RawExtension, error) {
			data, err := templatePatch("statefulset", ss.Namespace, ss.Name, &ss.Spec.Template)
			return runtime.RawExtension{Raw: data}, err
		},
		kept:  func(r *appsv1.ControllerRevision) bool { return inUse[r.Name] },
		limit: derefInt32(ss.Spec.RevisionHistoryLimit, 10)})
}

// templatePatch is the patch that restores a workload's pod template:
// {"spec":{"template":{..., "$patch":"replace"}}}, as kube stores it in
// a ControllerRevision.
func templatePatch(kind, ns, name string, t *corev1.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s template: %w", kind, ns, name, err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return nil, fmt.Errorf("%s %s/%s template: %w", kind, ns, name, err)
	}
	tpl["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": tpl}})
}

// RevisionTemplate is the pod template a StatefulSet or DaemonSet
// ControllerRevision holds.
func RevisionTemplate(r *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var d struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(r.Data.Raw, &d); err != nil {
		return nil, fmt.Errorf("controllerrevision %s/%s: %w", r.Namespace, r.Name, err)
	}
	return &d.Spec.Template, nil
}
