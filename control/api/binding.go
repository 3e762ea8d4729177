package api

import (
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// bind answers POST .../pods/{name}/binding: it assigns the pod to the
// node named by the Binding's target, once (409 when already assigned).
func (s *Server) bind(w http.ResponseWriter, r *http.Request, rq *request) (int, any, error) {
	b, err := s.decodeBinding(w, r)
	if err != nil {
		return 0, nil, err
	}
	if b.Name != "" && b.Name != rq.name {
		return 0, nil, errBadRequest("the name of the binding (%s) does not match the pod on the URL (%s)", b.Name, rq.name)
	}
	if b.Namespace != "" && b.Namespace != rq.namespace {
		return 0, nil, errBadRequest("the namespace of the binding (%s) does not match the namespace on the URL (%s)", b.Namespace, rq.namespace)
	}
	var errs field.ErrorList
	target := field.NewPath("target")
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, field.NotSupported(target.Child("kind"), b.Target.Kind, []string{"Node"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, field.Required(target.Child("name"), "the node to bind the pod to"))
	}
	for _, msg := range validation.IsDNS1123Subdomain(b.Target.Name) {
		if b.Target.Name != "" {
			errs = append(errs, field.Invalid(target.Child("name"), b.Target.Name, msg))
		}
	}
	if len(errs) > 0 {
		return 0, nil, errInvalid(rq.res, rq.name, errs)
	}
	_, err = s.update(r.Context(), rq, func(cur object) (object, error) {
		pod := cur.(*corev1.Pod)
		if b.UID != "" && b.UID != pod.UID {
			return nil, errConflict(rq.res, rq.name, "the binding's uid does not match the pod's")
		}
		if pod.Spec.NodeName != "" {
			return nil, errConflict(rq.res, rq.name, fmt.Sprintf("pod %s is already assigned to node %q", rq.name, pod.Spec.NodeName))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		return pod, nil
	}, 0)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess, Code: http.StatusCreated,
	}, nil
}

func (s *Server) decodeBinding(w http.ResponseWriter, r *http.Request) (*corev1.Binding, error) {
	data, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	out, err := s.decodeInto(w, r, data, &corev1.Binding{}, corev1.SchemeGroupVersion.WithKind("Binding"))
	if err != nil {
		return nil, err
	}
	b, ok := out.(*corev1.Binding)
	if !ok || b.APIVersion != "v1" {
		gvk := out.GetObjectKind().GroupVersionKind()
		return nil, errBadRequest("the body must be a v1 Binding, not %s %s", gvk.GroupVersion(), gvk.Kind)
	}
	return b, nil
}
