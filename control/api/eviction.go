package api

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"

	"github.com/weirnet/weir/control/store"
)

// maxDisruptedPods is kube's MaxDisruptedPodSize: evictions are refused
// while a budget has more approved evictions than this that its
// controller has not seen happen yet.
const maxDisruptedPods = 2000

// pdbAttempts bounds the compare-and-swap retries on one budget's status
// when evictions race for it (kube's EvictionsRetry has 20 steps).
const pdbAttempts = 20

// evictionMessage is kube's answer when a budget allows no disruption.
const evictionMessage = "Cannot evict pod as it would violate the pod's disruption budget."

// evict answers POST .../pods/{name}/eviction (policy/v1 Eviction, also
// policy/v1beta1) as kube-apiserver's eviction subresource does. A pod
// that is not Running (Pending, Succeeded, Failed) or already terminating
// is deleted without looking at budgets. Otherwise the PodDisruptionBudgets
// of its namespace whose selector matches it decide: none, the pod is
// deleted; more than one, 500; one, its status.disruptionsAllowed must be
// above 0 (else 429 TooManyRequests, kube's message and a DisruptionBudget
// cause), and is decremented, with the pod recorded in
// status.disruptedPods, by a compare-and-swap on the budget's revision
// (race-free across concurrent evictions and members), before the pod is
// deleted with the Eviction's DeleteOptions. A pod that is not Ready
// does not use the budget: it is deleted (conditional on the
// resourceVersion read) when the budget's unhealthyPodEvictionPolicy is
// AlwaysAllow or when the budget is met (IfHealthyBudget, the default),
// and refused with 429 otherwise. The deletion first sets the pod's
// DisruptionTarget condition (EvictionByEvictionAPI), as kube does.
func (s *Server) evict(w http.ResponseWriter, r *http.Request, rq *request) (int, any, error) {
	ev, err := s.decodeEviction(w, r)
	if err != nil {
		return 0, nil, err
	}
	if ev.Name == "" {
		ev.Name = rq.name
	}
	if ev.Name != rq.name {
		return 0, nil, errBadRequest("name in URL does not match name in Eviction object")
	}
	if ev.Namespace != "" && ev.Namespace != rq.namespace {
		return 0, nil, errBadRequest("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", ev.Namespace, rq.namespace)
	}
	opts, err := evictionDeleteOptions(ev, rq)
	if err != nil {
		return 0, nil, err
	}
	podRq := &request{verb: "delete", res: rq.res, namespace: rq.namespace, name: rq.name, dryRun: len(opts.DryRun) > 0,
		fieldManager: rq.fieldManager, userAgent: rq.userAgent}
	ctx := r.Context()
	pod, done, err := s.evictIgnoringBudgets(ctx, podRq, opts)
	if err != nil || done {
		return evicted(err)
	}
	pdbs, err := s.podBudgets(ctx, pod)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case len(pdbs) > 1:
		return 0, nil, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}}
	case len(pdbs) == 0:
		return evicted(s.deleteEvicted(ctx, podRq, opts))
	}
	pdb := pdbs[0]
	if !podReady(pod) {
		p := pdb.obj
		policy := p.Spec.UnhealthyPodEvictionPolicy
		if policy != nil && *policy == policyv1.AlwaysAllow ||
			p.Status.CurrentHealthy >= p.Status.DesiredHealthy && p.Status.DesiredHealthy > 0 {
			// The pod does not count as healthy: deleting it disrupts
			// nothing, so long as it does not turn Ready meanwhile.
			err := s.deleteEvicted(ctx, podRq, withResourceVersion(opts, pod.ResourceVersion))
			if apierrors.IsConflict(err) && resourceVersionUnset(opts) {
				err = tooManyRequests(p.Name)
			}
			return evicted(err)
		}
	}
	if err := s.takeDisruption(ctx, pod, pdb, podRq.dryRun); err != nil {
		return 0, nil, err
	}
	return evicted(s.deleteEvicted(ctx, podRq, opts))
}

// evicted is the answer of an eviction: 201 with a Success Status, or err.
func evicted(err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusSuccess, Code: http.StatusCreated}, nil
}

// decodeEviction reads the body as a policy/v1 (or v1beta1) Eviction.
func (s *Server) decodeEviction(w http.ResponseWriter, r *http.Request) (*policyv1.Eviction, error) {
	data, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	out, err := s.decodeInto(w, r, data, &policyv1.Eviction{}, policyv1.SchemeGroupVersion.WithKind("Eviction"))
	if err != nil {
		return nil, err
	}
	switch ev := out.(type) {
	case *policyv1.Eviction:
		return ev, nil
	case *policyv1beta1.Eviction:
		return &policyv1.Eviction{ObjectMeta: ev.ObjectMeta, DeleteOptions: ev.DeleteOptions}, nil
	}
	gvk := out.GetObjectKind().GroupVersionKind()
	return nil, errBadRequest("the body must be a policy/v1 Eviction, not %s %s", gvk.GroupVersion(), gvk.Kind)
}

// evictionDeleteOptions are the Eviction's DeleteOptions with the
// request's ?dryRun, which must agree with theirs (kube's
// propagateDryRun).
func evictionDeleteOptions(ev *policyv1.Eviction, rq *request) (*metav1.DeleteOptions, error) {
	var query []string
	if rq.dryRun {
		query = []string{metav1.DryRunAll}
	}
	opts := &metav1.DeleteOptions{}
	if ev.DeleteOptions != nil {
		opts = ev.DeleteOptions.DeepCopy()
	}
	switch {
	case len(opts.DryRun) == 0:
		opts.DryRun = query
	case len(query) > 0 && !reflect.DeepEqual(query, opts.DryRun):
		return nil, errBadRequest("Non-matching dry-run options in request and content: %v and %v", query, opts.DryRun)
	}
	for _, v := range opts.DryRun {
		if v != metav1.DryRunAll {
			return nil, errBadRequest("invalid dryRun value %q: the only supported value is All", v)
		}
	}
	if _, err := propagation(opts); err != nil {
		return nil, err
	}
	return opts, nil
}

// evictIgnoringBudgets deletes the pod when no budget applies to it
// (done): it is not running or already terminating. Otherwise it returns
// the pod as read.
func (s *Server) evictIgnoringBudgets(ctx context.Context, podRq *request, opts *metav1.DeleteOptions) (*corev1.Pod, bool, error) {
	for attempt := 0; attempt < pdbAttempts; attempt++ {
		o, err := (objectReader{st: s.store, reg: s.reg}).get(ctx, "pods", podRq.namespace, podRq.name, false)
		if err != nil {
			return nil, false, err
		}
		pod := o.(*corev1.Pod)
		if pc := opts.Preconditions; pc != nil && pc.UID != nil && *pc.UID != "" && *pc.UID != pod.UID {
			// before any budget is used: the pod named is gone
			return nil, false, errConflict(podRq.res, pod.Name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *pc.UID, pod.UID))
		}
		if !canIgnoreBudgets(pod) {
			return pod, false, nil
		}
		del := opts
		if enforceResourceVersion(pod) && resourceVersionUnset(opts) {
			// not racing with the pod turning Running meanwhile
			del = withResourceVersion(opts, pod.ResourceVersion)
		}
		err = s.deleteEvicted(ctx, podRq, del)
		if apierrors.IsConflict(err) && resourceVersionUnset(opts) {
			continue
		}
		return nil, true, err
	}
	return nil, false, errConflict(podRq.res, podRq.name, fmt.Sprintf("gave up after %d attempts racing with concurrent writes; retry", pdbAttempts))
}

// canIgnoreBudgets is kube's canIgnorePDB: a pod that is not running yet
// or any more, or is terminating, disrupts nothing by going.
func canIgnoreBudgets(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodPending:
		return true
	}
	return pod.DeletionTimestamp != nil
}

// enforceResourceVersion is kube's shouldEnforceResourceVersion.
func enforceResourceVersion(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil
}

func resourceVersionUnset(opts *metav1.DeleteOptions) bool {
	return opts.Preconditions == nil || opts.Preconditions.ResourceVersion == nil
}

// withResourceVersion is a copy of opts with a resourceVersion
// precondition.
func withResourceVersion(opts *metav1.DeleteOptions, rv string) *metav1.DeleteOptions {
	out := opts.DeepCopy()
	if out.Preconditions == nil {
		out.Preconditions = &metav1.Preconditions{}
	}
	out.Preconditions.ResourceVersion = &rv
	return out
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// storedBudget is a PodDisruptionBudget with the store object it was read
// from (its key and revision, for the compare-and-swap).
type storedBudget struct {
	obj    *policyv1.PodDisruptionBudget
	stored store.Object
}

// podBudgets are the budgets of pod's namespace whose selector matches
// it (linearizable read). As in policy/v1, an empty selector matches every
// pod and a missing one none; an invalid one matches nothing.
func (s *Server) podBudgets(ctx context.Context, pod *corev1.Pod) ([]storedBudget, error) {
	res := s.reg.get(policyv1.GroupName, "v1", "poddisruptionbudgets")
	l, err := s.store.List(ctx, store.ListOptions{Resource: res.Resource(), Namespace: pod.Namespace})
	if err != nil {
		return nil, storeError(err, res, "")
	}
	var out []storedBudget
	for _, so := range l.Objects {
		o, err := res.decodeStored(so)
		if err != nil {
			return nil, errInternal(err)
		}
		pdb := o.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, storedBudget{obj: pdb, stored: so})
	}
	return out, nil
}

// takeDisruption is kube's checkAndDecrement, retried on a fresh read
// while other writers move the budget: it refuses (429) unless the budget
// allows a disruption and its controller has seen its current spec, then
// decrements status.disruptionsAllowed and records the pod in
// status.disruptedPods in one Txn conditioned on the budget's revision.
// A dry run checks only.
func (s *Server) takeDisruption(ctx context.Context, pod *corev1.Pod, b storedBudget, dryRun bool) error {
	res := s.reg.get(policyv1.GroupName, "v1", "poddisruptionbudgets")
	for attempt := 0; attempt < pdbAttempts; attempt++ {
		if attempt > 0 {
			so, err := s.store.Get(ctx, b.stored.Key, store.ReadOptions{})
			if err != nil {
				return storeError(err, res, b.obj.Name)
			}
			o, err := res.decodeStored(so)
			if err != nil {
				return errInternal(err)
			}
			b = storedBudget{obj: o.(*policyv1.PodDisruptionBudget), stored: so}
		}
		pdb := b.obj
		if err := checkBudget(pdb); err != nil {
			return err
		}
		pdb.Status.DisruptionsAllowed--
		if pdb.Status.DisruptionsAllowed == 0 {
			pdbhelper.UpdateDisruptionAllowedCondition(pdb)
		}
		if dryRun {
			return nil
		}
		if pdb.Status.DisruptedPods == nil {
			pdb.Status.DisruptedPods = map[string]metav1.Time{}
		}
		pdb.Status.DisruptedPods[pod.Name] = metav1.Now()
		value, err := res.encodeStored(pdb)
		if err != nil {
			return errInternal(err)
		}
		p := &plan{}
		p.cond(store.Cond{Kind: store.RevisionIs, Key: b.stored.Key, Revision: b.stored.Revision}, nil)
		p.put(b.stored.Key, value)
		_, err = s.commit(ctx, p)
		if errors.Is(err, errRetry) {
			// another eviction (or the controller) wrote the budget first
			time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
			continue
		}
		if err != nil {
			return storeError(err, res, pdb.Name)
		}
		return nil
	}
	return apierrors.NewTimeoutError(fmt.Sprintf("couldn't update PodDisruptionBudget %q due to conflicts", b.obj.Name), 10)
}

// checkBudget refuses an eviction the budget does not allow, with kube's
// errors.
func checkBudget(pdb *policyv1.PodDisruptionBudget) error {
	pdbRes := policyv1.Resource("poddisruptionbudget")
	switch st := pdb.Status; {
	case st.ObservedGeneration < pdb.Generation:
		return tooManyRequests(pdb.Name)
	case st.DisruptionsAllowed < 0:
		return apierrors.NewForbidden(pdbRes, pdb.Name, errors.New("pdb disruptions allowed is negative"))
	case len(st.DisruptedPods) > maxDisruptedPods:
		return apierrors.NewForbidden(pdbRes, pdb.Name, errors.New("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
	case st.DisruptionsAllowed == 0:
		err := apierrors.NewTooManyRequests(evictionMessage, 0)
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
			Message: fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, st.DesiredHealthy, st.CurrentHealthy)})
		return err
	}
	return nil
}

// tooManyRequests is kube's createTooManyRequestsError: the budget is
// still being processed (its controller has not caught up).
func tooManyRequests(name string) error {
	err := apierrors.NewTooManyRequests(evictionMessage, 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
		Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", name)})
	return err
}

// deleteEvicted sets the pod's DisruptionTarget condition and deletes it
// with opts (the DELETE path: grace, finalizers, preconditions); a dry run
// writes nothing.
func (s *Server) deleteEvicted(ctx context.Context, podRq *request, opts *metav1.DeleteOptions) error {
	if !podRq.dryRun {
		var precond uint64
		if !resourceVersionUnset(opts) {
			rv, err := parseRevision(*opts.Preconditions.ResourceVersion)
			if err != nil {
				return err
			}
			precond = rv
		}
		statusRq := *podRq
		statusRq.verb, statusRq.sub = "update", "status"
		out, err := s.update(ctx, &statusRq, func(cur object) (object, error) {
			pod := cur.(*corev1.Pod)
			if uid := opts.Preconditions; uid != nil && uid.UID != nil && *uid.UID != "" && *uid.UID != pod.UID {
				return nil, errConflict(podRq.res, pod.Name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *uid.UID, pod.UID))
			}
			setDisruptionTarget(pod)
			return pod, nil
		}, precond)
		if err != nil {
			return err
		}
		if precond != 0 {
			// this write moved the pod on; the precondition held before it
			opts = withResourceVersion(opts, out.GetResourceVersion())
		}
	}
	_, err := s.remove(ctx, podRq, opts)
	return err
}

// setDisruptionTarget sets the pod's DisruptionTarget condition as kube's
// eviction does.
func setDisruptionTarget(pod *corev1.Pod) {
	c := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.Now()}
	for i := range pod.Status.Conditions {
		old := &pod.Status.Conditions[i]
		if old.Type == c.Type {
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			*old = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
