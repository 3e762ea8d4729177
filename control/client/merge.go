package client

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
)

// mergeObject computes what apply sends as the new object: the live object
// with the desired fields set, and the fields that the last applied
// configuration had but desired no longer has removed. Fields only the
// live object has (set by the server or other writers: uid, clusterIP,
// status...) are kept. Maps merge key by key; lists of the same length merge
// element by element (so server defaults inside list elements survive);
// other lists and scalars are replaced. A null in desired removes the
// field. Nothing passed in is modified.
func mergeObject(live, last, desired map[string]any) map[string]any {
	return mergeMap(live, last, desired)
}

func mergeMap(live, last, desired map[string]any) map[string]any {
	out := make(map[string]any, len(live)+len(desired))
	for k, v := range live {
		out[k] = runtime.DeepCopyJSONValue(v)
	}
	for k := range last {
		if _, keep := desired[k]; !keep {
			delete(out, k)
		}
	}
	for k, dv := range desired {
		if dv == nil {
			delete(out, k)
			continue
		}
		out[k] = mergeValue(live[k], last[k], dv)
	}
	return out
}

func mergeValue(live, last, desired any) any {
	switch d := desired.(type) {
	case map[string]any:
		if l, ok := live.(map[string]any); ok {
			la, _ := last.(map[string]any)
			return mergeMap(l, la, d)
		}
	case []any:
		if l, ok := live.([]any); ok && len(l) == len(d) {
			la, _ := last.([]any)
			if len(la) != len(d) {
				la = nil
			}
			out := make([]any, len(d))
			for i := range d {
				var lastElem any
				if la != nil {
					lastElem = la[i]
				}
				out[i] = mergeElement(l[i], lastElem, d[i])
			}
			return out
		}
	}
	return runtime.DeepCopyJSONValue(desired)
}

// identityKeys name a list element (a container, a port, a volume
// mount...): elements merge only when desired's identity fields equal
// live's, so a renamed container does not inherit the old one's fields.
var identityKeys = []string{"name", "port", "containerPort", "mountPath", "ip"}

// mergeElement merges list elements that are objects with the same
// identity; anything else is replaced by desired.
func mergeElement(live, last, desired any) any {
	d, dok := desired.(map[string]any)
	l, lok := live.(map[string]any)
	if dok && lok {
		for _, k := range identityKeys {
			if dv, ok := d[k]; ok && !equalJSON(dv, l[k]) {
				lok = false
			}
		}
	}
	if !dok || !lok {
		if desired == nil {
			return nil
		}
		return runtime.DeepCopyJSONValue(desired)
	}
	la, _ := last.(map[string]any)
	return mergeMap(l, la, d)
}

// equalJSON compares JSON values, treating integral float64 and int64 as
// equal (YAML and JSON decoders disagree on number types).
func equalJSON(a, b any) bool {
	if fa, ok := a.(float64); ok {
		if ib, ok := b.(int64); ok {
			return fa == float64(ib)
		}
	}
	if ia, ok := a.(int64); ok {
		if fb, ok := b.(float64); ok {
			return float64(ia) == fb
		}
	}
	return reflect.DeepEqual(a, b)
}

// equalValues compares JSON documents deeply with equalJSON at the leaves.
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return equalJSON(a, b)
}
