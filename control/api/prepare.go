package api

import (
	"crypto/rand"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// subInternal marks updates the server makes itself; no URL reaches it.
const subInternal = "internal"

// checkBodyIdentity fills namespace (and name, for updates) from the URL
// and refuses bodies that name another namespace or object (400).
func checkBodyIdentity(rq *request, obj object, wantName string) error {
	if !rq.res.Namespaced {
		obj.SetNamespace("")
	} else if ns := obj.GetNamespace(); ns == "" {
		obj.SetNamespace(rq.namespace)
	} else if ns != rq.namespace {
		return errBadRequest("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", ns, rq.namespace)
	}
	if wantName != "" {
		if n := obj.GetName(); n == "" {
			obj.SetName(wantName)
		} else if n != wantName {
			return errBadRequest("the name of the object (%s) does not match the name on the URL (%s)", n, wantName)
		}
	}
	return nil
}

// prepareCreate sets server-owned metadata, defaults and validates.
func (s *Server) prepareCreate(rq *request, obj object) error {
	if err := checkBodyIdentity(rq, obj, ""); err != nil {
		return err
	}
	if obj.GetName() == "" && obj.GetGenerateName() != "" {
		obj.SetName(obj.GetGenerateName() + randomSuffix())
	}
	obj.SetUID(types.UID(uuid.NewUUID()))
	obj.SetCreationTimestamp(metav1.Now())
	obj.SetResourceVersion("")
	obj.SetGeneration(1)
	obj.SetDeletionTimestamp(nil)
	obj.SetDeletionGracePeriodSeconds(nil)
	if rq.res.setDefaults != nil {
		rq.res.setDefaults(obj)
	}
	errs := apivalidation.ValidateObjectMetaAccessor(obj, rq.res.Namespaced, rq.res.nameFn, field.NewPath("metadata"))
	if rq.res.validate != nil {
		errs = append(errs, rq.res.validate(obj, nil)...)
	}
	if len(errs) > 0 {
		return errInvalid(rq.res, obj.GetName(), errs)
	}
	return nil
}

// prepareUpdate turns the desired object of an update into the object to
// store: the status subresource changes only status, the object itself
// keeps the stored status (when the kind has a status subresource);
// server-owned metadata is preserved; generation grows when anything but
// metadata and status changed. Then defaults and validation.
func (s *Server) prepareUpdate(rq *request, obj, old object) (object, error) {
	res := rq.res
	if rq.sub == subInternal {
		// a change the server itself makes (namespace termination): kept as is
		obj.SetResourceVersion(old.GetResourceVersion())
		return obj, nil
	}
	managed := obj.GetManagedFields() // fieldmanager.go decides what to keep
	var err error
	switch {
	case rq.sub == "status":
		obj, err = withSection(res, old, obj, "status")
	case res.hasStatus():
		obj, err = withSection(res, obj, old, "status")
	}
	if err != nil {
		return nil, err
	}
	if obj.GetUID() == "" {
		obj.SetUID(old.GetUID())
	}
	obj.SetCreationTimestamp(old.GetCreationTimestamp())
	obj.SetDeletionTimestamp(old.GetDeletionTimestamp())
	obj.SetDeletionGracePeriodSeconds(old.GetDeletionGracePeriodSeconds())
	obj.SetResourceVersion(old.GetResourceVersion())
	obj.SetManagedFields(managed)
	obj.SetGeneration(old.GetGeneration())
	if svc, ok := obj.(*corev1.Service); ok {
		carryOverAllocations(svc, old.(*corev1.Service))
	}
	if res.setDefaults != nil {
		res.setDefaults(obj)
	}
	if rq.sub == "" || rq.sub == "scale" {
		if changed, err := specChanged(obj, old); err != nil {
			return nil, errInternal(err)
		} else if changed {
			obj.SetGeneration(old.GetGeneration() + 1)
		}
	}
	errs := apivalidation.ValidateObjectMetaAccessorUpdate(obj, old, field.NewPath("metadata"))
	if res.validate != nil && rq.sub != "binding" {
		errs = append(errs, res.validate(obj, old)...)
	}
	if len(errs) > 0 {
		return nil, errInvalid(res, obj.GetName(), errs)
	}
	return obj, nil
}

// withSection returns base with its top-level field section taken from
// from (removed when from has none).
func withSection(res *resource, base, from object, section string) (object, error) {
	bm, err := toMap(base)
	if err != nil {
		return nil, errInternal(err)
	}
	fm, err := toMap(from)
	if err != nil {
		return nil, errInternal(err)
	}
	if v, ok := fm[section]; ok {
		bm[section] = v
	} else {
		delete(bm, section)
	}
	return res.fromMap(bm)
}

// specChanged reports whether anything but metadata, status and type meta
// differs: what bumps metadata.generation.
func specChanged(a, b object) (bool, error) {
	am, err := toMap(a)
	if err != nil {
		return false, err
	}
	bm, err := toMap(b)
	if err != nil {
		return false, err
	}
	for _, k := range []string{"metadata", "status", "apiVersion", "kind"} {
		delete(am, k)
		delete(bm, k)
	}
	return !reflect.DeepEqual(am, bm), nil
}

// randomSuffix is the 5-character suffix of generateName, from the same
// alphabet as Kubernetes (no vowels, no confusable digits).
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b [5]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
