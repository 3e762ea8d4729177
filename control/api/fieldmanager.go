package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/weirnet/weir/control/api/openapi"
)

// fieldManagers keeps metadata.managedFields, as kube-apiserver does:
// one apimachinery FieldManager per served kind and subresource (""
// for the object itself, "status", "scale"). Creates, updates and
// non-apply patches record an Update entry for the request's manager;
// server-side apply merges the applied configuration and records an
// Apply entry, or answers 409 with the conflicting managers.
type fieldManagers struct {
	byKey map[string]*managedfields.FieldManager
	// scale applies autoscaling/v1 Scale configurations; its entries are
	// moved to and from the parent's by a managedfields.ScaleHandler.
	scale *managedfields.FieldManager
}

func fieldManagerKey(res *resource, sub string) string {
	return res.Group + "/" + res.Kind + "/" + sub
}

// newFieldManagers builds the managers of every kind in reg. Objects are
// stored in their only served version, so the scheme that converts
// between typed and unstructured objects is also the hub; its defaulting
// functions are the kinds' own (applied objects are defaulted like
// decoded ones).
func newFieldManagers(reg *registry) (*fieldManagers, error) {
	tc, err := typeConverter()
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	for _, res := range reg.list {
		scheme.AddKnownTypeWithName(res.gvk(), res.newObj())
		if res.setDefaults != nil {
			scheme.AddTypeDefaultingFunc(res.newObj(), func(o any) { res.setDefaults(o.(object)) })
		}
	}
	scaleGVK := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	scheme.AddKnownTypeWithName(scaleGVK, &autoscalingv1.Scale{})
	fm := &fieldManagers{byKey: map[string]*managedfields.FieldManager{}}
	if fm.scale, err = managedfields.NewDefaultFieldManager(tc, scheme, scheme, scheme, scaleGVK, scaleGVK.GroupVersion(), "scale", nil); err != nil {
		return nil, fmt.Errorf("api: field manager of Scale: %w", err)
	}
	for _, res := range reg.list {
		gvk := res.gvk()
		apiVersion := fieldpath.APIVersion(res.APIVersion())
		for _, sub := range append([]string{""}, res.subs...) {
			var reset map[fieldpath.APIVersion]fieldpath.Filter
			switch {
			case sub == "" && res.hasStatus():
				// the object itself never changes status, and the status
				// subresource never changes spec: neither is owned there
				reset = map[fieldpath.APIVersion]fieldpath.Filter{apiVersion: excludeTop("status")}
			case sub == "status":
				reset = map[fieldpath.APIVersion]fieldpath.Filter{apiVersion: excludeTop("spec")}
			case sub == "" || sub == "scale":
			default:
				continue // binding, log, exec: no managed fields of their own
			}
			m, err := managedfields.NewDefaultFieldManager(tc, scheme, scheme, scheme, gvk, gvk.GroupVersion(), sub, reset)
			if err != nil {
				return nil, fmt.Errorf("api: field manager of %s: %w", gvk, err)
			}
			fm.byKey[fieldManagerKey(res, sub)] = m
		}
	}
	return fm, nil
}

func excludeTop(name string) fieldpath.Filter {
	return fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie(name)))
}

func (r *resource) gvk() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// typeConverter is the structured-merge-diff schema of the served kinds,
// from the generated OpenAPI definitions. Models carry no
// x-kubernetes-group-version-kind there (kube-apiserver's OpenAPI builder
// adds it from the scheme); it is added here for each served kind. Built
// once per process (it takes a while) and never changed after.
var typeConverter = sync.OnceValues(func() (managedfields.TypeConverter, error) {
	reg, err := newRegistry()
	if err != nil {
		return nil, err
	}
	defs := openapi.GetOpenAPIDefinitions(func(name string) spec.Ref {
		return spec.MustCreateRef("#/definitions/" + name)
	})
	models := make(map[string]*spec.Schema, len(defs))
	for name, d := range defs {
		models[name] = &d.Schema
	}
	kinds := map[schema.GroupVersionKind]any{autoscalingv1.SchemeGroupVersion.WithKind("Scale"): &autoscalingv1.Scale{}}
	for _, res := range reg.list {
		kinds[res.gvk()] = res.newObj()
	}
	for gvk, obj := range kinds {
		named, ok := obj.(interface{ OpenAPIModelName() string })
		if !ok {
			return nil, fmt.Errorf("api: %s has no OpenAPI model name", gvk.Kind)
		}
		m := models[named.OpenAPIModelName()]
		if m == nil {
			return nil, fmt.Errorf("api: no OpenAPI definition for %s (%s)", gvk.Kind, named.OpenAPIModelName())
		}
		m.AddExtension("x-kubernetes-group-version-kind", []any{
			map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind},
		})
	}
	tc, err := managedfields.NewTypeConverter(models, false)
	if err != nil {
		return nil, fmt.Errorf("api: server-side apply type converter: %w", err)
	}
	return tc, nil
})

func (f *fieldManagers) get(rq *request) *managedfields.FieldManager {
	return f.byKey[fieldManagerKey(rq.res, rq.sub)]
}

// trackUpdate records obj's changes from old (nil on create) under the
// request's manager. Server-internal writes, bindings and applies (which
// already recorded theirs) are left alone.
func (f *fieldManagers) trackUpdate(rq *request, old, obj object) object {
	m := f.get(rq)
	if m == nil || rq.apply {
		return obj
	}
	live := old
	if live == nil {
		live = rq.res.newObj()
		rq.res.setTypeMeta(live)
	}
	out, ok := m.UpdateNoErrors(live, obj, rq.manager()).(object)
	if !ok {
		return obj
	}
	return out
}

// keepManagedTimes reverts a change of obj's managedFields that only
// moved timestamps (an apply that changed nothing), like kube-apiserver's
// IgnoreManagedFieldsTimestampsTransformer.
func keepManagedTimes(res *resource, obj, old object) {
	a, b := obj.GetManagedFields(), old.GetManagedFields()
	if len(a) != len(b) || len(a) == 0 {
		return
	}
	for i := range a {
		x, y := a[i], b[i]
		x.Time, y.Time = nil, nil
		if x.Manager != y.Manager || x.Operation != y.Operation || x.APIVersion != y.APIVersion ||
			x.Subresource != y.Subresource || x.FieldsType != y.FieldsType ||
			(x.FieldsV1 == nil) != (y.FieldsV1 == nil) || x.FieldsV1 != nil && !bytes.Equal(x.FieldsV1.Raw, y.FieldsV1.Raw) {
			return
		}
	}
	obj.SetManagedFields(b)
	same, err := sameStored(res, obj, old)
	if err != nil || !same {
		obj.SetManagedFields(a)
	}
}

func sameStored(res *resource, a, b object) (bool, error) {
	av, err := res.encodeStored(a)
	if err != nil {
		return false, err
	}
	bv, err := res.encodeStored(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(av, bv), nil
}

// parseFieldManager reads ?fieldManager= (checked as kube-apiserver
// does: at most 128 printable characters; 422 otherwise).
func (rq *request) parseFieldManager(r *http.Request) error {
	rq.fieldManager = r.URL.Query().Get("fieldManager")
	rq.userAgent = r.UserAgent()
	if rq.fieldManager == "" {
		return nil
	}
	errs := metav1validation.ValidateFieldManager(rq.fieldManager, field.NewPath("fieldManager"))
	if len(errs) == 0 {
		return nil
	}
	kind := map[string]string{"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}[rq.verb]
	if kind == "" {
		return nil // reads and deletes do not use it
	}
	return fromAPIError(apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: kind}, "", errs))
}

// manager is the name writes are recorded under: ?fieldManager=, else
// the User-Agent up to its first "/" (kubectl, kube-controller-manager),
// as kube-apiserver derives it. The server's own writes (no HTTP request)
// are kube-apiserver's, as there.
func (rq *request) manager() string {
	if rq.fieldManager != "" {
		return rq.fieldManager
	}
	if rq.userAgent == "" {
		return "kube-apiserver"
	}
	m, _, _ := strings.Cut(rq.userAgent, "/")
	var b strings.Builder
	for _, c := range m {
		if !unicode.IsPrint(c) {
			continue
		}
		if b.Len()+utf8.RuneLen(c) > metav1validation.FieldManagerMaxLength {
			break
		}
		b.WriteRune(c)
	}
	return b.String()
}
