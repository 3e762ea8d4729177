package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/store"
)

func (r *resource) key(ns, name string) store.Key {
	if !r.Namespaced {
		ns = ""
	}
	return store.Key{Resource: r.Resource(), Namespace: ns, Name: name}
}

func (r *resource) setTypeMeta(obj object) {
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind})
}

// encodeStored is the stored form of obj: JSON without resourceVersion
// (the store's revision is the truth).
func (r *resource) encodeStored(obj object) ([]byte, error) {
	rv := obj.GetResourceVersion()
	obj.SetResourceVersion("")
	r.setTypeMeta(obj)
	data, err := json.Marshal(obj)
	obj.SetResourceVersion(rv)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", r.Kind, obj.GetName(), err)
	}
	return data, nil
}

// decodeStored turns a stored object into a typed object whose
// resourceVersion is the store revision.
func (r *resource) decodeStored(o store.Object) (object, error) {
	obj := r.newObj()
	if err := json.Unmarshal(o.Value, obj); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", o.Key, err)
	}
	r.setTypeMeta(obj)
	obj.SetResourceVersion(strconv.FormatUint(o.Revision, 10))
	return obj, nil
}

func (r *resource) decodeJSON(w http.ResponseWriter, req *http.Request, js []byte) (object, error) {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, errBadRequest("decoding apiVersion and kind: %v", err)
	}
	if tm.APIVersion != "" && tm.APIVersion != r.APIVersion() {
		return nil, errBadRequest("the API version in the data (%s) does not match the expected API version (%s)", tm.APIVersion, r.APIVersion())
	}
	if tm.Kind != "" && tm.Kind != r.Kind {
		return nil, errBadRequest("the kind in the data (%s) does not match the expected kind (%s) of %s", tm.Kind, r.Kind, r.Resource())
	}
	obj := r.newObj()
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	err := dec.Decode(obj)
	if err != nil && strings.HasPrefix(err.Error(), "json: unknown field") {
		if req.URL.Query().Get("fieldValidation") == "Strict" {
			return nil, errBadRequest("strict decoding error: %s", strings.TrimPrefix(err.Error(), "json: "))
		}
		w.Header().Add("Warning", fmt.Sprintf("299 - %q", strings.TrimPrefix(err.Error(), "json: ")))
		obj = r.newObj()
		err = json.Unmarshal(js, obj)
	}
	if err != nil {
		return nil, errBadRequest("decoding %s: %s", r.Kind, describeJSONError(err))
	}
	r.setTypeMeta(obj)
	return obj, nil
}

// describeJSONError names the field of a type error.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s: cannot use a JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// toMap and fromMap move between typed objects and JSON maps, for the
// generic spec/status handling of updates and patches.
func toMap(obj any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(data, &m)
	return m, err
}

func (r *resource) fromMap(m map[string]any) (object, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	obj := r.newObj()
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, errBadRequest("decoding %s: %s", r.Kind, describeJSONError(err))
	}
	r.setTypeMeta(obj)
	return obj, nil
}
