package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

// queryDeleteOptions reads ?gracePeriodSeconds=N, ?propagationPolicy=
// and ?orphanDependents=, which a DeleteOptions body may override.
func queryDeleteOptions(r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	if v := r.URL.Query().Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errBadRequest("invalid gracePeriodSeconds %q: want a whole number of seconds (0 deletes at once)", v)
		}
		opts.GracePeriodSeconds = &n
	}
	if err := queryPropagation(r.URL.Query(), opts); err != nil {
		return nil, err
	}
	return opts, nil
}

// defaultPodGrace is the grace period of a pod without
// spec.terminationGracePeriodSeconds, as in Kubernetes.
const defaultPodGrace = 30

// podGrace is the grace period a DELETE of pod asks for:
// DeleteOptions.gracePeriodSeconds, else the pod's
// terminationGracePeriodSeconds, else 30 s. Negative values count as 1 s,
// as in kube-apiserver. graceful is false when the pod is to go at once:
// a grace of 0, or a pod no node runs (unbound, or in a terminal phase).
func podGrace(pod *corev1.Pod, opts *metav1.DeleteOptions) (grace int64, graceful bool) {
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0, false
	}
	grace = defaultPodGrace
	switch {
	case opts.GracePeriodSeconds != nil:
		grace = *opts.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if grace < 0 {
		grace = 1
	}
	return grace, grace > 0
}

// deletePodGracefully is remove's hook for pods. A bound, running pod is
// not removed: it gets metadata.deletionTimestamp (now + grace) and
// deletionGracePeriodSeconds, and its node's agent stops it and reports
// it removed (control/nodestream deletes it then, or, while the pod has
// finalizers, sets its grace to 0 so that removing the last one deletes
// it). A later DELETE may only shorten the grace; a grace of 0 removes
// the pod at once (or marks it, with finalizers). finChanged says the
// DELETE changed the pod's finalizers, which are written in any case.
// handled is false when remove should go on; errRetry asks it to read
// again.
func (s *Server) deletePodGracefully(ctx context.Context, rq *request, stored store.Object, pod *corev1.Pod, opts *metav1.DeleteOptions, precond, finChanged bool) (out object, handled bool, err error) {
	grace, graceful := podGrace(pod, opts)
	if !graceful {
		return nil, false, nil
	}
	if !setPodGrace(pod, grace, time.Now()) && !finChanged {
		return pod, true, nil // already terminating, at least as soon
	}
	if pod.Generation > 0 {
		pod.Generation++
	}
	if rq.dryRun {
		return pod, true, nil
	}
	out, err = s.putConditioned(ctx, rq, stored, pod, precond)
	return out, true, err
}

// setPodGrace sets the pod's deletionTimestamp (now + grace) and
// deletionGracePeriodSeconds unless it is already terminating at least as
// soon, and reports whether it changed them. A shorter grace counts from
// the first request, as in Kubernetes.
func setPodGrace(pod *corev1.Pod, grace int64, now time.Time) bool {
	if pod.DeletionTimestamp != nil {
		old := pod.DeletionGracePeriodSeconds
		if old != nil && grace >= *old || old == nil && !pod.DeletionTimestamp.Time.After(now.Add(time.Duration(grace)*time.Second)) {
			return false
		}
		if old != nil {
			now = pod.DeletionTimestamp.Add(-time.Duration(*old) * time.Second)
		}
	}
	at := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
	pod.DeletionTimestamp = &at
	pod.DeletionGracePeriodSeconds = &grace
	return true
}
