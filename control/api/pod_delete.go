package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

// queryDeleteOptions reads ?gracePeriodSeconds=N, which a DeleteOptions
// body may override.
func queryDeleteOptions(r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	if v := r.URL.Query().Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errBadRequest("invalid gracePeriodSeconds %q: want a whole number of seconds (0 deletes at once)", v)
		}
		opts.GracePeriodSeconds = &n
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
// it removed (control/nodestream deletes it then). A later DELETE may
// only shorten the grace; a grace of 0 removes the pod at once. handled
// is false when remove should delete the object now; errRetry asks it to
// read again.
func (s *Server) deletePodGracefully(ctx context.Context, rq *request, stored store.Object, pod *corev1.Pod, opts *metav1.DeleteOptions, precond bool) (out object, handled bool, err error) {
	grace, graceful := podGrace(pod, opts)
	if !graceful {
		return nil, false, nil
	}
	now := time.Now()
	if pod.DeletionTimestamp != nil {
		old := pod.DeletionGracePeriodSeconds
		if old != nil && grace >= *old || old == nil && !pod.DeletionTimestamp.Time.After(now.Add(time.Duration(grace)*time.Second)) {
			return pod, true, nil // already terminating, at least as soon
		}
		if old != nil {
			// the new grace counts from the first request, as in Kubernetes
			now = pod.DeletionTimestamp.Add(-time.Duration(*old) * time.Second)
		}
	}
	at := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
	pod.DeletionTimestamp = &at
	pod.DeletionGracePeriodSeconds = &grace
	if pod.Generation > 0 {
		pod.Generation++
	}
	if rq.dryRun {
		return pod, true, nil
	}
	value, err := rq.res.encodeStored(pod)
	if err != nil {
		return nil, true, errInternal(err)
	}
	p := &plan{}
	var onFail func(store.Object) error
	if precond {
		onFail = fail(errStaleRevision(rq.res, rq.name))
	}
	p.cond(store.Cond{Kind: store.RevisionIs, Key: stored.Key, Revision: stored.Revision}, onFail)
	i := p.put(stored.Key, value)
	tr, err := s.commit(ctx, p)
	if errors.Is(err, errRetry) {
		return nil, true, err
	}
	if err != nil {
		return nil, true, storeError(err, rq.res, rq.name)
	}
	out, err = rq.res.decodeStored(tr.Objects[i])
	if err != nil {
		return nil, true, errInternal(err)
	}
	return out, true, nil
}
