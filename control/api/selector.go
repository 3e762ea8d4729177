package api

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// selector is a request's label and field selector pair.
type selector struct {
	labels labels.Selector
	fields fields.Selector
	res    *resource
	// byName is set when the selector is only metadata.name=X (as a
	// kubelet watches one ConfigMap or Secret): matches compares the
	// name, and an object's name never changes.
	byName bool
	pinned string
}

// newSelector checks the field selector's labels against the kind's, as
// kube-apiserver converts them (an unknown label is a 400 with kube's text,
// e.g. "field label not supported: xyz"), and renames legacy ones. Nil
// selectors select everything. Operators are fields' own: =, == and !=,
// joined by commas (AND).
func newSelector(res *resource, ls labels.Selector, fs fields.Selector) (*selector, error) {
	if ls == nil {
		ls = labels.Everything()
	}
	if fs == nil {
		fs = fields.Everything()
	}
	fs, err := fs.Transform(func(label, value string) (string, string, error) {
		return convertFieldLabel(res.Kind, label, value)
	})
	if err != nil {
		return nil, errBadRequest("%s", err.Error())
	}
	sel := &selector{labels: ls, fields: fs, res: res}
	if reqs := fs.Requirements(); ls.Empty() && len(reqs) == 1 && reqs[0].Field == "metadata.name" &&
		(reqs[0].Operator == selection.Equals || reqs[0].Operator == selection.DoubleEquals) {
		sel.byName, sel.pinned = true, reqs[0].Value
	}
	return sel, nil
}

// fieldSet is the set of selectable fields of obj: metadata.name,
// metadata.namespace for namespaced kinds, and the kind's own.
func (r *resource) fieldSet(obj object) fields.Set {
	s := fields.Set{"metadata.name": obj.GetName()}
	if r.Namespaced {
		s["metadata.namespace"] = obj.GetNamespace()
	}
	if r.fields != nil {
		for k, v := range r.fields(obj) {
			s[k] = v
		}
	}
	return s
}

func (sel *selector) matches(obj object) bool {
	if sel.byName {
		return obj.GetName() == sel.pinned
	}
	return (sel.labels.Empty() || sel.labels.Matches(labels.Set(obj.GetLabels()))) &&
		(sel.fields.Empty() || sel.fields.Matches(sel.res.fieldSet(obj)))
}

// immutable reports whether the selector reads only what an update cannot
// change (the name): an object it matched before an update it matches
// after.
func (sel *selector) immutable() bool { return sel.empty() || sel.byName }

// empty reports whether the selector selects everything.
func (sel *selector) empty() bool { return sel.labels.Empty() && sel.fields.Empty() }

// name returns the object name the selector pins with metadata.name=X, if
// any, so that watches can be narrowed in the store.
func (sel *selector) name() string {
	v, _ := sel.fields.RequiresExactMatch("metadata.name")
	return v
}
