package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/yaml"
)

// Patch media types, the four kube-apiserver serves.
var patchTypes = []string{
	string(types.JSONPatchType),
	string(types.MergePatchType),
	string(types.StrategicMergePatchType),
	string(types.ApplyYAMLPatchType),
}

// maxJSONPatchOperations is kube-apiserver's limit on one JSON patch.
const maxJSONPatchOperations = 10000

// patchRequest is one PATCH: its type, its body (JSON; an apply body is
// converted from YAML) and, for server-side apply, force.
type patchRequest struct {
	typ   types.PatchType
	body  []byte
	ops   jsonpatch.Patch            // JSON patch
	apply *unstructured.Unstructured // server-side apply
	force bool
}

// patch applies a JSON patch (RFC 6902), a JSON merge patch (RFC 7386), a
// strategic merge patch (the k8s.io/api type is its schema) or a
// server-side apply to the current object, or to its status or scale.
// Non-apply patches record an Update in managedFields under the request's
// manager. A metadata.resourceVersion the patch leaves in the object is a
// precondition (409 when the object moved on); otherwise the patch is
// re-applied on a write conflict. An apply to a missing object creates it
// (created is then true: 201).
func (s *Server) patch(ctx context.Context, w http.ResponseWriter, r *http.Request, rq *request) (out object, created bool, err error) {
	p, err := s.readPatch(w, r, rq)
	if err != nil {
		return nil, false, err
	}
	if rq.sub == "scale" {
		out, err := s.patchScale(ctx, rq, p)
		return out, false, err
	}
	if p.apply != nil {
		return s.serverSideApply(ctx, rq, p)
	}
	out, err = s.update(ctx, rq, func(cur object) (object, error) {
		js, err := json.Marshal(cur)
		if err != nil {
			return nil, errInternal(err)
		}
		patched, err := p.patchJSON(js, rq.res.newObj())
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(patched, rq.res.newObj()); err != nil {
			// a patched object that does not fit the type: 422, as kube-apiserver
			return nil, fromAPIError(apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{
				field.Invalid(field.NewPath("patch"), string(patched), err.Error())}))
		}
		obj, err := rq.res.decodeJSON(w, r, patched)
		if err != nil {
			return nil, err
		}
		return obj, checkPatchedRevision(rq, obj.GetResourceVersion(), cur.GetResourceVersion())
	}, 0)
	return out, false, err
}

// readPatch checks the Content-Type, the PatchOptions and the body as
// kube-apiserver does: 415 for another type, 422 for bad options, 400 for
// a body that is not JSON (YAML for apply) or not a JSON patch, 413 for
// more than maxJSONPatchOperations operations.
func (s *Server) readPatch(w http.ResponseWriter, r *http.Request, rq *request) (*patchRequest, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	p := &patchRequest{typ: types.PatchType(strings.TrimSpace(mt))}
	switch p.typ {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType:
	default:
		return nil, errUnsupportedMediaType(patchTypes...)
	}
	opts := &metav1.PatchOptions{FieldManager: rq.fieldManager}
	if v := r.URL.Query().Get("force"); v != "" || r.URL.Query().Has("force") {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, errBadRequest("invalid force %q: want true or false", v)
		}
		opts.Force, p.force = &b, b
	}
	if errs := metav1validation.ValidatePatchOptions(opts, p.typ); len(errs) > 0 {
		return nil, fromAPIError(apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "PatchOptions"}, "", errs))
	}
	data, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	switch p.typ {
	case types.ApplyYAMLPatchType:
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, errBadRequest("error decoding patch: %v", err)
		}
		p.apply = &unstructured.Unstructured{}
		if err := json.Unmarshal(js, &p.apply.Object); err != nil || p.apply.Object == nil {
			return nil, errBadRequest("error decoding patch: the applied configuration must be one YAML or JSON object")
		}
		p.body = js
		return p, nil
	case types.JSONPatchType:
		if !json.Valid(data) {
			return nil, errBadRequest("invalid JSON patch")
		}
		if p.ops, err = jsonpatch.DecodePatch(data); err != nil {
			return nil, errBadRequest("%s", err.Error())
		}
		if len(p.ops) > maxJSONPatchOperations {
			return nil, fromAPIError(apierrors.NewRequestEntityTooLargeError(
				fmt.Sprintf("The allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOperations, len(p.ops))))
		}
	default:
		if !json.Valid(data) {
			return nil, errBadRequest("invalid JSON patch")
		}
	}
	p.body = data
	return p, nil
}

// patchJSON applies a non-apply patch to the JSON of the current object;
// schema is the typed object whose struct tags (patchStrategy,
// patchMergeKey) drive a strategic merge.
func (p *patchRequest) patchJSON(cur []byte, schema any) ([]byte, error) {
	switch p.typ {
	case types.JSONPatchType:
		out, err := applyOps(p.ops, cur)
		if err != nil {
			return nil, fromAPIError(apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schemaGroupResource, "", err.Error(), 0, false))
		}
		return out, nil
	case types.MergePatchType:
		out, err := jsonpatch.MergePatch(cur, p.body)
		if err != nil {
			return nil, errBadRequest("%s", err.Error())
		}
		return out, nil
	case types.StrategicMergePatchType:
		out, err := strategicpatch.StrategicMergePatch(cur, p.body, schema)
		if err != nil {
			return nil, strategicPatchError(err)
		}
		return out, nil
	}
	return nil, errUnsupportedMediaType(patchTypes...)
}

var schemaGroupResource = schema.GroupResource{}

// applyOps applies a JSON patch. evanphx/json-patch panics on some
// operations without a value ({"op":"replace","path":""}); that is the
// patch's fault, so it is a failed patch here, not a 500.
func applyOps(ops jsonpatch.Patch, doc []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("the JSON patch could not be applied: %v", r)
		}
	}()
	return ops.Apply(doc)
}

// strategicPatchError answers as kube-apiserver's
// interpretStrategicMergePatchError: 400 for a malformed patch, 422 for
// one that does not fit the object.
func strategicPatchError(err error) *apierrors.StatusError {
	switch {
	case errors.Is(err, mergepatch.ErrBadJSONDoc), errors.Is(err, mergepatch.ErrBadPatchFormatForPrimitiveList),
		errors.Is(err, mergepatch.ErrBadPatchFormatForRetainKeys), errors.Is(err, mergepatch.ErrBadPatchFormatForSetElementOrderList),
		errors.Is(err, mergepatch.ErrUnsupportedStrategicMergePatchFormat):
		return errBadRequest("%s", err.Error())
	case errors.Is(err, mergepatch.ErrNoListOfLists), errors.Is(err, mergepatch.ErrPatchContentNotMatchRetainKeys):
		return fromAPIError(apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schemaGroupResource, "", err.Error(), 0, false))
	}
	return errBadRequest("%s", err.Error())
}

// checkPatchedRevision makes a resourceVersion left in the patched object
// a precondition, as kube-apiserver does.
func checkPatchedRevision(rq *request, patched, cur string) error {
	if patched != "" && patched != cur {
		return errStaleRevision(rq.res, rq.name)
	}
	return nil
}

// serverSideApply merges the applied configuration into the object with
// the kind's FieldManager: fields another manager owns with a different
// value are a 409 conflict naming them, unless force takes them over. A
// missing object is created from the configuration (201).
func (s *Server) serverSideApply(ctx context.Context, rq *request, p *patchRequest) (object, bool, error) {
	rq.apply = true
	m := s.fields.get(rq)
	if m == nil {
		return nil, false, errUnsupportedMediaType(patchTypes[:3]...)
	}
	out, err := s.update(ctx, rq, func(cur object) (object, error) {
		obj, err := applyTo(m, rq, p, cur)
		if err != nil {
			return nil, err
		}
		return obj, checkPatchedRevision(rq, obj.GetResourceVersion(), cur.GetResourceVersion())
	}, 0)
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Code != http.StatusNotFound || rq.sub != "" {
		return out, false, err
	}
	empty := rq.res.newObj()
	rq.res.setTypeMeta(empty)
	obj, err := applyTo(m, rq, p, empty)
	if err != nil {
		return nil, false, err
	}
	if uid := obj.GetUID(); uid != "" {
		return nil, false, errConflict(rq.res, rq.name, fmt.Sprintf("uid mismatch: the provided object specified uid %s, and no existing object was found", uid))
	}
	obj.SetResourceVersion("")
	out, err = s.create(ctx, rq, obj)
	return out, err == nil, err
}

// applyScale is server-side apply to the scale subresource, as
// kube-apiserver does it: the parent's managedFields are moved to the
// Scale's terms (spec.replicas of autoscaling/v1), the Scale's field
// manager applies, and the result moves back to the parent.
func (s *Server) applyScale(ctx context.Context, rq *request, p *patchRequest) (object, error) {
	rq.apply = true
	return s.update(ctx, rq, func(cur object) (object, error) {
		h := managedfields.NewScaleHandler(cur.GetManagedFields(), rq.res.gvk().GroupVersion(),
			managedfields.ResourcePathMappings{rq.res.APIVersion(): fieldpath.MakePathOrDie("spec", "replicas")})
		entries, err := h.ToSubresource()
		if err != nil {
			return nil, errInternal(err)
		}
		sc := scaleOf(cur)
		sc.ManagedFields = entries
		res, err := s.fields.scale.Apply(sc, p.apply.DeepCopy(), rq.fieldManager, p.force)
		if err != nil {
			return nil, fromAPIError(err)
		}
		out, ok := res.(*autoscalingv1.Scale)
		if !ok {
			return nil, errInternal(fmt.Errorf("apply returned a %T", res))
		}
		if out.Name != rq.name {
			return nil, errBadRequest("the name of the object (%s) does not match the name on the URL (%s)", out.Name, rq.name)
		}
		if out.Spec.Replicas < 0 {
			return nil, errInvalid(rq.res, rq.name, field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), out.Spec.Replicas, "must be >= 0")})
		}
		if err := checkPatchedRevision(rq, out.ResourceVersion, sc.ResourceVersion); err != nil {
			return nil, err
		}
		parent, err := h.ToParent(out.ManagedFields)
		if err != nil {
			return nil, errInternal(err)
		}
		setReplicas(cur, out.Spec.Replicas)
		cur.SetManagedFields(parent)
		return cur, nil
	}, 0)
}

// applyTo applies p to live (an empty object when creating) and returns
// the typed result, its name and namespace checked against the URL.
func applyTo(m *managedfields.FieldManager, rq *request, p *patchRequest, live object) (object, error) {
	res, err := m.Apply(live, p.apply.DeepCopy(), rq.fieldManager, p.force)
	if err != nil {
		return nil, fromAPIError(err)
	}
	obj, ok := res.(object)
	if !ok {
		u, isU := res.(runtime.Unstructured)
		if !isU {
			return nil, errInternal(fmt.Errorf("apply returned a %T", res))
		}
		obj = rq.res.newObj()
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), obj); err != nil {
			return nil, errBadRequest("decoding the applied %s: %v", rq.res.Kind, err)
		}
	}
	rq.res.setTypeMeta(obj)
	if err := checkBodyIdentity(rq, obj, rq.name); err != nil {
		return nil, err
	}
	return obj, nil
}
