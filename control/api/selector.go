package api

import (
	"net/http"
	"sort"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// selector is a parsed labelSelector and fieldSelector pair.
type selector struct {
	labels labels.Selector
	fields fields.Selector
	res    *resource
}

// parseSelector reads labelSelector and fieldSelector; fields other than
// metadata.name, metadata.namespace and the kind's own (spec.nodeName and
// status.phase for pods) are refused with 400, like kube-apiserver.
func parseSelector(r *http.Request, res *resource) (*selector, error) {
	q := r.URL.Query()
	ls, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return nil, errBadRequest("unable to parse labelSelector %q: %v", q.Get("labelSelector"), err)
	}
	fs, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return nil, errBadRequest("unable to parse fieldSelector %q: %v", q.Get("fieldSelector"), err)
	}
	allowed := res.fieldSet(res.newObj())
	for _, req := range fs.Requirements() {
		if _, ok := allowed[req.Field]; !ok {
			return nil, errBadRequest("field label not supported: %q (selectable fields of %s: %v)", req.Field, res.Resource(), allowedNames(allowed))
		}
	}
	return &selector{labels: ls, fields: fs, res: res}, nil
}

func allowedNames(s fields.Set) []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// fieldSet is the set of selectable fields of obj.
func (r *resource) fieldSet(obj object) fields.Set {
	s := fields.Set{"metadata.name": obj.GetName(), "metadata.namespace": obj.GetNamespace()}
	if r.fields != nil {
		for k, v := range r.fields(obj) {
			s[k] = v
		}
	}
	return s
}

func (sel *selector) matches(obj object) bool {
	return sel.labels.Matches(labels.Set(obj.GetLabels())) && sel.fields.Matches(sel.res.fieldSet(obj))
}

// name returns the object name the selector pins with metadata.name=X, if
// any, so that watches can be narrowed in the store.
func (sel *selector) name() string {
	v, _ := sel.fields.RequiresExactMatch("metadata.name")
	return v
}
