package printers

import (
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// PrintObject writes one object as "json" or "yaml".
func PrintObject(w io.Writer, format string, obj *unstructured.Unstructured) error {
	return encode(w, format, obj.Object)
}

// PrintList writes objects as a kubectl-style List ("json" or "yaml").
func PrintList(w io.Writer, format string, objs []*unstructured.Unstructured, resourceVersion string) error {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		items = append(items, o.Object)
	}
	list := map[string]any{
		"apiVersion": "v1",
		"kind":       "List",
		"metadata":   map[string]any{"resourceVersion": resourceVersion},
		"items":      items,
	}
	return encode(w, format, list)
}

// WithoutManagedFields is obj without metadata.managedFields, as kubectl
// prints objects unless --show-managed-fields. obj is not modified.
func WithoutManagedFields(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if _, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, "metadata", "managedFields"); !ok {
		return obj
	}
	c := obj.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	return c
}

// PrintName writes "TYPE/NAME", e.g. "deployment.apps/web".
func PrintName(w io.Writer, typeName string, obj *unstructured.Unstructured) error {
	_, err := fmt.Fprintf(w, "%s/%s\n", typeName, obj.GetName())
	return err
}

func encode(w io.Writer, format string, v any) error {
	switch format {
	case "json":
		data, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return fmt.Errorf("encode JSON: %w", err)
		}
		_, err = w.Write(append(data, '\n'))
		return err
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode YAML: %w", err)
		}
		_, err = w.Write(data)
		return err
	}
	return fmt.Errorf("unknown output format %q: use json, yaml, name or wide", format)
}
