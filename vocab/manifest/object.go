package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// decodeDocument turns one document into its objects (none for an empty
// document, several for a List).
func decodeDocument(d document) ([]*unstructured.Unstructured, error) {
	fail := func(item int, field string, err error) error {
		return &Error{Document: d.index, Line: d.line, Item: item, Field: field, Err: err}
	}
	js := d.data
	if !d.json {
		var err error
		if js, err = yaml.YAMLToJSON(d.data); err != nil {
			return nil, fail(0, "", fmt.Errorf("malformed YAML: %w", err))
		}
	}
	if t := bytes.TrimSpace(js); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fail(0, "", fmt.Errorf("malformed document: %w", err))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fail(0, "", fmt.Errorf("expected an object with apiVersion, kind and metadata, got %s", typeName(v)))
	}
	m = normalizeNumbers(m).(map[string]any)
	if items, isList := listItems(m); isList {
		return decodeList(items, fail)
	}
	obj, field, err := checkObject(m)
	if err != nil {
		return nil, fail(0, field, err)
	}
	return []*unstructured.Unstructured{obj}, nil
}

// listItems reports whether m is a List (kind "List", or any kind ending in
// "List" that has an items array) and returns its items.
func listItems(m map[string]any) ([]any, bool) {
	kind, _ := m["kind"].(string)
	if !strings.HasSuffix(kind, "List") {
		return nil, false
	}
	items, ok := m["items"].([]any)
	if !ok && kind != "List" {
		return nil, false
	}
	return items, true
}

func decodeList(items []any, fail func(int, string, error) error) ([]*unstructured.Unstructured, error) {
	if len(items) > MaxObjects {
		return nil, fail(0, "items", fmt.Errorf("%w (more than %d items)", ErrTooLarge, MaxObjects))
	}
	out := make([]*unstructured.Unstructured, 0, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fail(i+1, "", fmt.Errorf("expected an object, got %s", typeName(it)))
		}
		obj, field, err := checkObject(m)
		if err != nil {
			return nil, fail(i+1, field, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// checkObject checks the fields every object needs and returns the name of
// the offending field on error.
func checkObject(m map[string]any) (*unstructured.Unstructured, string, error) {
	for _, f := range []string{"apiVersion", "kind"} {
		s, err := stringField(m, f)
		if err != nil {
			return nil, f, err
		}
		if s == "" {
			return nil, f, errors.New("required: every object needs apiVersion and kind")
		}
	}
	md, ok := m["metadata"].(map[string]any)
	if !ok {
		if _, present := m["metadata"]; present {
			return nil, "metadata", fmt.Errorf("expected an object, got %s", typeName(m["metadata"]))
		}
		return nil, "metadata.name", errors.New("required: every object needs metadata.name")
	}
	for _, f := range []string{"name", "generateName", "namespace"} {
		if _, err := stringField(md, f); err != nil {
			return nil, "metadata." + f, err
		}
	}
	if md["name"] == nil && md["generateName"] == nil || md["name"] == "" && md["generateName"] == nil {
		return nil, "metadata.name", errors.New("required: every object needs metadata.name")
	}
	return &unstructured.Unstructured{Object: m}, "", nil
}

func stringField(m map[string]any, f string) (string, error) {
	v, present := m[f]
	if !present || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("expected a string, got %s", typeName(v))
	}
	return s, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, int64, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
