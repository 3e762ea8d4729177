package controllers

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	schedulinghelpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// DaemonSetPlan is what a DaemonSet needs: pods to create (one per node
// name), pods to delete, and its status.
type DaemonSetPlan struct {
	Create []string
	Delete []*corev1.Pod
	Status appsv1.DaemonSetStatus
}

// daemonSetTolerations are the tolerations kube's DaemonSet controller
// adds to every daemon pod, so that a daemon keeps running on (and is
// placed on) nodes that are not ready, unreachable, under pressure or
// cordoned; network-unavailable only for host-network pods.
func daemonSetTolerations(hostNetwork bool) []corev1.Toleration {
	exists := func(key string, effect corev1.TaintEffect) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
	}
	tols := []corev1.Toleration{
		exists(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute),
		exists(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute),
		exists(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule),
		exists(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule),
	}
	if hostNetwork {
		tols = append(tols, exists(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))
	}
	return tols
}

// DaemonPodSpec is the spec of ds's pod for node: the template's, with
// the daemon tolerations added (an equal toleration is not repeated) and
// the required node affinity replaced by one term matching the node's
// metadata.name, which is how kube pins a daemon pod to its node and
// leaves the binding to the scheduler.
func DaemonPodSpec(tpl *corev1.PodSpec, node string) *corev1.PodSpec {
	s := tpl.DeepCopy()
	for _, t := range daemonSetTolerations(s.HostNetwork) {
		dup := false
		for _, have := range s.Tolerations {
			if have.MatchToleration(&t) {
				dup = true
				break
			}
		}
		if !dup {
			s.Tolerations = append(s.Tolerations, t)
		}
	}
	if node == "" {
		return s
	}
	if s.Affinity == nil {
		s.Affinity = &corev1.Affinity{}
	}
	if s.Affinity.NodeAffinity == nil {
		s.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
			Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}},
	}
	return s
}

// DaemonNodeFit reports whether ds should run a pod on node (its node
// selector and required node affinity match, and its pod tolerates the
// node's NoSchedule and NoExecute taints) and whether a pod already there
// may continue (it tolerates every NoExecute taint), as kube's
// NodeShouldRunDaemonPod decides.
func DaemonNodeFit(ds *appsv1.DaemonSet, node *corev1.Node) (shouldRun, shouldContinue bool) {
	pod := &corev1.Pod{Spec: *DaemonPodSpec(&ds.Spec.Template.Spec, "")}
	if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !ok {
		return false, false
	}
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != node.Name {
		return false, false
	}
	log := klog.Background()
	if _, bad := schedulinghelpers.FindMatchingUntoleratedTaint(log, node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}, false); !bad {
		return true, true
	}
	_, bad := schedulinghelpers.FindMatchingUntoleratedTaint(log, node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute
	}, false)
	return false, !bad
}

// daemonPodNode is the node a daemon pod is for: its spec.nodeName once
// bound, otherwise the metadata.name its required node affinity pins.
func daemonPodNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range t.MatchFields {
			if f.Key == metav1.ObjectNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

// PlanDaemonSet compares ds with its pods and the nodes at now: a pod on
// every node it should run on (created once the node's previous pods are
// gone), none on nodes it may not continue on, failed and duplicate pods
// deleted, pods of nodes that no longer exist deleted; with RollingUpdate,
// pods of an old template are deleted (and so replaced) while at most
// maxUnavailable of the desired pods are unavailable; with OnDelete they
// stay until someone deletes them. hash is the current template's.
func PlanDaemonSet(ds *appsv1.DaemonSet, nodes []*corev1.Node, owned []*corev1.Pod, hash string, now time.Time) DaemonSetPlan {
	byNode := map[string][]*corev1.Pod{}
	for _, p := range owned {
		n := daemonPodNode(p)
		byNode[n] = append(byNode[n], p)
	}
	for _, ps := range byNode {
		sort.SliceStable(ps, func(a, b int) bool {
			return ps[a].CreationTimestamp.Before(&ps[b].CreationTimestamp)
		})
	}
	minReady := time.Duration(ds.Spec.MinReadySeconds) * time.Second
	plan := DaemonSetPlan{}
	st := appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, CollisionCount: ds.Status.CollisionCount,
		Conditions: ds.Status.Conditions}
	known := map[string]bool{}
	// running: per node that should run the daemon, its one live pod
	running := map[string]*corev1.Pod{}
	var runNodes []string
	for _, n := range nodes {
		known[n.Name] = true
		shouldRun, shouldContinue := DaemonNodeFit(ds, n)
		pods := byNode[n.Name]
		var live []*corev1.Pod
		for _, p := range pods {
			switch {
			case p.DeletionTimestamp != nil:
			case p.Status.Phase == corev1.PodFailed && shouldContinue:
				plan.Delete = append(plan.Delete, p) // replaced once gone
			default:
				live = append(live, p)
			}
		}
		scheduled := len(live) > 0
		switch {
		case !shouldContinue:
			plan.Delete = append(plan.Delete, live...)
			live = nil
		case len(live) > 1:
			plan.Delete = append(plan.Delete, live[1:]...) // keep the oldest
			live = live[:1]
		}
		if shouldRun && len(pods) == 0 {
			plan.Create = append(plan.Create, n.Name)
		}
		if !shouldRun {
			if scheduled {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		runNodes = append(runNodes, n.Name)
		if len(live) == 0 {
			continue
		}
		p := live[0]
		running[n.Name] = p
		st.CurrentNumberScheduled++
		if PodReady(p) {
			st.NumberReady++
		}
		if PodAvailable(p, minReady, now) {
			st.NumberAvailable++
		}
		if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
			st.UpdatedNumberScheduled++
		}
	}
	for n, pods := range byNode {
		if known[n] {
			continue
		}
		for _, p := range pods {
			// bound pods of a node that is gone are the node lifecycle
			// controller's; unbound ones will never be placed
			if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
				plan.Delete = append(plan.Delete, p)
			}
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	if ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && ds.DeletionTimestamp == nil {
		plan.Delete = append(plan.Delete, rollDaemonPods(ds, runNodes, running, hash, minReady, now)...)
	}
	plan.Status = st
	return plan
}

// rollDaemonPods are the old-template pods to delete now: every one that
// is not available, and as many available ones as keep the unavailable
// daemon pods within maxUnavailable (a node without its pod counts as
// unavailable).
func rollDaemonPods(ds *appsv1.DaemonSet, runNodes []string, running map[string]*corev1.Pod, hash string, minReady time.Duration, now time.Time) []*corev1.Pod {
	maxUnavailable := 1
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		v, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, len(runNodes), true)
		if err == nil {
			maxUnavailable = v
		}
	}
	unavailable := 0
	var replace, candidates []*corev1.Pod
	sort.Strings(runNodes)
	for _, n := range runNodes {
		p := running[n]
		switch {
		case p == nil:
			unavailable++
		case p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash:
			if !PodAvailable(p, minReady, now) {
				unavailable++
			}
		case !PodAvailable(p, minReady, now):
			replace = append(replace, p)
			unavailable++
		default:
			candidates = append(candidates, p)
		}
	}
	budget := min(max(maxUnavailable-unavailable, 0), len(candidates))
	return append(replace, candidates[:budget]...)
}

// DaemonSetHistory is what a DaemonSet's ControllerRevisions need.
type DaemonSetHistory = History

// PlanDaemonSetHistory compares ds's revisions with its current template
// (hash) and its pods: a revision is named <daemonset>-<hash>, labelled
// with the template's labels and controller-revision-hash, and holds the
// template as the strategic merge patch `kubectl rollout undo` applies;
// the oldest revisions no live pod runs go beyond revisionHistoryLimit.
func PlanDaemonSetHistory(ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision, pods []*corev1.Pod, hash string) (DaemonSetHistory, error) {
	name := ds.Name + "-" + hash
	inUse := map[string]bool{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			inUse[p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] = true
		}
	}
	return planHistory(revs, revisionOf{name: name, kind: "DaemonSet", owner: ds, namespace: ds.Namespace,
		labels: ds.Spec.Template.Labels, hashKey: appsv1.DefaultDaemonSetUniqueLabelKey, hash: hash,
		data:  func() (runtime.RawExtension, error) { return daemonSetRevisionData(ds) },
		kept:  func(r *appsv1.ControllerRevision) bool { return inUse[r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] },
		limit: derefInt32(ds.Spec.RevisionHistoryLimit, 10)})
}

// daemonSetRevisionData is the patch that restores ds's pod template:
// {"spec":{"template":{..., "$patch":"replace"}}}, as kube stores it.
func daemonSetRevisionData(ds *appsv1.DaemonSet) (runtime.RawExtension, error) {
	tpl, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&ds.Spec.Template)
	if err != nil {
		return runtime.RawExtension{}, fmt.Errorf("daemonset %s/%s template: %w", ds.Namespace, ds.Name, err)
	}
	tpl["$patch"] = "replace"
	raw, err := json.Marshal(map[string]any{"spec": map[string]any{"template": tpl}})
	if err != nil {
		return runtime.RawExtension{}, fmt.Errorf("daemonset %s/%s template: %w", ds.Namespace, ds.Name, err)
	}
	return runtime.RawExtension{Raw: raw}, nil
}
