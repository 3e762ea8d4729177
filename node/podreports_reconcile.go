package node

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// reconcile marks unsent every sent status that the API's copy of the pod
// (as streamed back to the agent) contradicts: someone else changed it,
// e.g. the node lifecycle controller marking the pods of a node it
// thought dead not ready. The agent's view wins, as the kubelet's does.
func (r *podReports) reconcile(pods []corev1.Pod) {
	r.mu.Lock()
	changed := false
	for _, p := range pods {
		key := p.Namespace + "/" + p.Name
		rp, ok := r.latest[key]
		if !ok || !rp.sent || rp.removed || rp.uid != p.UID {
			continue
		}
		if statusDigest(rp.status) != statusDigest(p.Status) {
			rp.sent = false
			r.latest[key] = rp
			changed = true
		}
	}
	r.mu.Unlock()
	if changed {
		r.poke()
	}
}

// statusDigest is what a status says that matters to others (phase, IP,
// readiness, containers' readiness and restarts); timestamps are left out
// because they lose precision in JSON.
func statusDigest(st corev1.PodStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|", st.Phase, st.PodIP)
	for _, c := range st.Conditions {
		if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			fmt.Fprintf(&b, "%s=%s|", c.Type, c.Status)
		}
	}
	for _, c := range st.ContainerStatuses {
		fmt.Fprintf(&b, "%s:%t:%d|", c.Name, c.Ready, c.RestartCount)
	}
	return b.String()
}
