package controllers

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/scheduler"
)

// NodePlan is what a node needs: a new Ready condition (when heartbeats
// stopped), its taints (when they change), the pods to mark not ready,
// the pods to evict, and the terminating pods to force-delete.
type NodePlan struct {
	Ready         *corev1.NodeCondition
	Taints        []corev1.Taint
	TaintsChanged bool
	NotReady      []*corev1.Pod
	Evict         []*corev1.Pod
	ForceDelete   []*corev1.Pod
}

// nodeTaintKeys are the taints the node lifecycle controller owns.
var nodeTaintKeys = map[string]bool{corev1.TaintNodeUnreachable: true, corev1.TaintNodeNotReady: true}

// NodeLeaseNamespace holds the nodes' Leases (kube-node-lease), each
// named after its node.
const NodeLeaseNamespace = "kube-node-lease"

// PlanNode decides for node n, with its Lease (nil: none) and the pods
// bound to it, at now: its Ready condition turns Unknown when the last
// sign of life is older than grace, the later of the lease's renewTime
// and the Ready condition's lastHeartbeatTime (or, before either, the
// node's creation), as kube's node lifecycle controller probes both; Unknown adds the
// node.kubernetes.io/unreachable taints and False the not-ready ones
// (NoSchedule and NoExecute); pods on a node with NoExecute taints are
// evicted once their tolerationSeconds (evictionTimeout when they carry
// no toleration of that taint) have passed since the taint was added; on
// a node that is not Ready, pods still marked Ready are marked not ready
// (so the Services stop sending them new connections long before the
// eviction), and terminating pods are force-deleted once their
// deletionTimestamp plus grace period has passed (no agent confirms).
func PlanNode(n *corev1.Node, lease *coordinationv1.Lease, pods []*corev1.Pod, now time.Time, grace, evictionTimeout time.Duration) NodePlan {
	var plan NodePlan
	ready := nodeReady(n)
	hb := n.CreationTimestamp.Time
	if ready != nil {
		hb = ready.LastHeartbeatTime.Time
	}
	if lease != nil && lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(hb) {
		hb = lease.Spec.RenewTime.Time
	}
	status := corev1.ConditionUnknown
	if ready != nil {
		status = ready.Status
	}
	if now.Sub(hb) > grace && (ready == nil || ready.Status != corev1.ConditionUnknown) {
		c := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown",
			Message: "Kubelet stopped posting node status.", LastTransitionTime: metav1.NewTime(now)}
		if ready != nil {
			c.LastHeartbeatTime = ready.LastHeartbeatTime
		} else {
			c.Reason, c.Message = "NodeStatusNeverUpdated", "Kubelet never posted node status."
		}
		plan.Ready, status = &c, corev1.ConditionUnknown
	}
	plan.Taints, plan.TaintsChanged = nodeTaints(n, status, ready != nil || plan.Ready != nil, now)
	plan.Evict = evictions(plan.Taints, pods, now, evictionTimeout)
	if ready != nil || plan.Ready != nil {
		plan.ForceDelete = overdueTerminating(status, pods, now)
		if status != corev1.ConditionTrue {
			for _, p := range pods {
				if PodReady(p) {
					plan.NotReady = append(plan.NotReady, p)
				}
			}
		}
	}
	return plan
}

// markPodNotReady is the Ready condition of a pod on a node that stopped
// reporting; the agent's next report (it resends every status
// periodically) sets the truth again.
func markPodNotReady(p *corev1.Pod, now time.Time) *corev1.Pod {
	up := p.DeepCopy()
	for i := range up.Status.Conditions {
		if up.Status.Conditions[i].Type == corev1.PodReady {
			up.Status.Conditions[i].Status = corev1.ConditionFalse
			up.Status.Conditions[i].Reason = "NodeNotReady"
			up.Status.Conditions[i].Message = "the pod's node " + p.Spec.NodeName + " is not Ready"
			up.Status.Conditions[i].LastTransitionTime = metav1.NewTime(now)
		}
	}
	return up
}

func nodeReady(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// nodeTaints is n's taints with the lifecycle ones set for status,
// keeping the time a kept taint was added.
func nodeTaints(n *corev1.Node, status corev1.ConditionStatus, known bool, now time.Time) ([]corev1.Taint, bool) {
	var key string
	switch {
	case !known:
	case status == corev1.ConditionUnknown:
		key = corev1.TaintNodeUnreachable
	case status == corev1.ConditionFalse:
		key = corev1.TaintNodeNotReady
	}
	var out []corev1.Taint
	old := map[corev1.TaintEffect]*corev1.Taint{}
	for i := range n.Spec.Taints {
		t := n.Spec.Taints[i]
		if nodeTaintKeys[t.Key] {
			if t.Key == key {
				old[t.Effect] = &n.Spec.Taints[i]
			}
			continue
		}
		out = append(out, t)
	}
	changed := len(out)+len(old) != len(n.Spec.Taints)
	if key != "" {
		for _, e := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
			if t := old[e]; t != nil {
				out = append(out, *t)
				continue
			}
			t := corev1.Taint{Key: key, Effect: e}
			if e == corev1.TaintEffectNoExecute {
				ts := metav1.NewTime(now)
				t.TimeAdded = &ts
			}
			out = append(out, t)
			changed = true
		}
	}
	return out, changed
}

// evictions are the active pods whose time on a NoExecute-tainted node is
// up.
func evictions(taints []corev1.Taint, pods []*corev1.Pod, now time.Time, def time.Duration) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if !PodActive(p) {
			continue
		}
		for i := range taints {
			t := &taints[i]
			if t.Effect != corev1.TaintEffectNoExecute {
				continue
			}
			wait, ok := tolerationWait(p, t, def)
			added := now
			if t.TimeAdded != nil {
				added = t.TimeAdded.Time
			}
			if ok && !now.Before(added.Add(wait)) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// tolerationWait is how long p may stay under taint t: def without a
// toleration, forever (ok false) with one without tolerationSeconds.
func tolerationWait(p *corev1.Pod, t *corev1.Taint, def time.Duration) (time.Duration, bool) {
	found, wait := false, time.Duration(0)
	for i := range p.Spec.Tolerations {
		tol := &p.Spec.Tolerations[i]
		if !scheduler.Tolerates(tol, t) {
			continue
		}
		if tol.TolerationSeconds == nil {
			return 0, false
		}
		d := time.Duration(*tol.TolerationSeconds) * time.Second
		if !found || d > wait {
			wait = d
		}
		found = true
	}
	if !found {
		return def, true
	}
	return wait, true
}
