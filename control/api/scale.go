package api

import (
	"context"
	"encoding/json"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// handleScale serves the scale subresource of Deployments, ReplicaSets and
// StatefulSets as an autoscaling/v1 Scale.
func (s *Server) handleScale(w http.ResponseWriter, r *http.Request, rq *request) (int, any, error) {
	var obj object
	var err error
	switch rq.verb {
	case "get":
		obj, err = s.get(r.Context(), r, rq)
	case "update":
		obj, err = s.replaceScale(w, r, rq)
	case "patch":
		obj, _, err = s.patch(r.Context(), w, r, rq)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, scaleOf(obj), nil
}

func (s *Server) replaceScale(w http.ResponseWriter, r *http.Request, rq *request) (object, error) {
	data, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	out, err := s.decodeInto(w, r, data, &autoscalingv1.Scale{}, autoscalingv1.SchemeGroupVersion.WithKind("Scale"))
	if err != nil {
		return nil, err
	}
	sc, ok := out.(*autoscalingv1.Scale)
	if !ok {
		return nil, errBadRequest("the body must be an autoscaling/v1 Scale, not %s", out.GetObjectKind().GroupVersionKind().Kind)
	}
	precond, err := parseRevision(sc.ResourceVersion)
	if err != nil {
		return nil, err
	}
	return s.setScale(r.Context(), rq, func(*autoscalingv1.Scale) (*autoscalingv1.Scale, error) { return sc, nil }, precond)
}

func (s *Server) patchScale(ctx context.Context, rq *request, p *patchRequest) (object, error) {
	if p.apply != nil {
		return s.applyScale(ctx, rq, p)
	}
	return s.setScale(ctx, rq, func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
		js, err := json.Marshal(cur)
		if err != nil {
			return nil, errInternal(err)
		}
		patched, err := p.patchJSON(js, &autoscalingv1.Scale{})
		if err != nil {
			return nil, err
		}
		out := &autoscalingv1.Scale{}
		if err := json.Unmarshal(patched, out); err != nil {
			return nil, errBadRequest("decoding patched Scale: %s", describeJSONError(err))
		}
		return out, checkPatchedRevision(rq, out.ResourceVersion, cur.ResourceVersion)
	}, 0)
}

// setScale updates spec.replicas from the desired Scale.
func (s *Server) setScale(ctx context.Context, rq *request, desired func(*autoscalingv1.Scale) (*autoscalingv1.Scale, error), precond uint64) (object, error) {
	return s.update(ctx, rq, func(cur object) (object, error) {
		sc, err := desired(scaleOf(cur))
		if err != nil {
			return nil, err
		}
		if sc.Spec.Replicas < 0 {
			return nil, errInvalid(rq.res, rq.name, field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), sc.Spec.Replicas, "must be >= 0")})
		}
		setReplicas(cur, sc.Spec.Replicas)
		return cur, nil
	}, precond)
}

func setReplicas(obj object, n int32) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		o.Spec.Replicas = &n
	case *appsv1.StatefulSet:
		o.Spec.Replicas = &n
	}
}

func scaleOf(obj object) *autoscalingv1.Scale {
	sc := &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace(), UID: obj.GetUID(),
			ResourceVersion: obj.GetResourceVersion(), CreationTimestamp: obj.GetCreationTimestamp()},
	}
	var sel *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		sc.Spec.Replicas, sc.Status.Replicas, sel = deref(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector
	case *appsv1.ReplicaSet:
		sc.Spec.Replicas, sc.Status.Replicas, sel = deref(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector
	case *appsv1.StatefulSet:
		sc.Spec.Replicas, sc.Status.Replicas, sel = deref(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector
	}
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && sel != nil {
		sc.Status.Selector = s.String()
	}
	return sc
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
