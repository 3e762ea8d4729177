package runtime

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// removeOrphans removes containers (and their pods' sandboxes) that carry
// weir's labels but belong to no wanted pod: left by an earlier agent for
// pods deleted while it was away.
func (r *Runtime) removeOrphans(want map[types.UID]*corev1.Pod) {
	ctx := r.ctx
	ctrs, err := r.client.Containers(ctx, fmt.Sprintf("labels.%q", labelPodUID))
	if err != nil {
		r.cfg.Logger.Warn("list containers for orphans", "error", err)
		return
	}
	gone := map[types.UID]bool{}
	for _, c := range ctrs {
		labels, err := c.Labels(ctx)
		if err != nil {
			continue
		}
		uid := types.UID(labels[labelPodUID])
		if want[uid] != nil {
			continue
		}
		if err := r.removeContainer(ctx, c.ID()); err != nil {
			r.cfg.Logger.Warn("remove orphan container", "id", c.ID(), "error", err)
		}
		gone[uid] = true
	}
	for uid := range gone {
		s := r.newSandbox(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: uid}})
		if err := r.tearDown(context.WithoutCancel(ctx), s); err != nil {
			r.cfg.Logger.Warn("remove orphan pod", "uid", uid, "error", err)
		}
	}
}
