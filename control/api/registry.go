package api

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weirnet/weir/vocab/manifest"
)

// object is what every served type is: a runtime.Object with ObjectMeta.
type object interface {
	runtime.Object
	metav1.Object
}

// behaviour is the per-kind part of a resource: how to make, default and
// validate its objects and which fields selectors may use.
type behaviour struct {
	newObj func() object
	// subresources the kind serves besides the object itself.
	subs []string
	// nameFn validates metadata.name (DNS subdomain or DNS label).
	nameFn func(string, bool) []string
	// setDefaults fills defaults in place; may be nil.
	setDefaults func(object)
	// validate checks obj; old is nil on create. May be nil.
	validate func(obj, old object) field.ErrorList
	// fields adds kind-specific selectable fields; may be nil.
	fields func(object) fields.Set
}

// kindInfo is embedded in resource so that res.Kind is the kind's name.
type kindInfo = manifest.Kind

// resource is one served kind: its names (from manifest) and behaviour.
type resource struct {
	kindInfo
	behaviour
}

func (r *resource) hasSub(sub string) bool {
	for _, s := range r.subs {
		if s == sub {
			return true
		}
	}
	return false
}

// hasStatus reports whether the kind has a status subresource, in which
// case PUT on the object itself keeps the stored status.
func (r *resource) hasStatus() bool { return r.hasSub("status") }

// registry finds resources by group, version and plural.
type registry struct {
	list  []*resource
	byKey map[string]*resource
}

func newRegistry() (*registry, error) {
	b := behaviours()
	reg := &registry{byKey: map[string]*resource{}}
	for _, k := range manifest.Kinds() {
		bh, ok := b[k.Kind]
		if !ok {
			return nil, fmt.Errorf("api: kind %s has no behaviour", k.Kind)
		}
		r := &resource{kindInfo: k, behaviour: bh}
		reg.list = append(reg.list, r)
		reg.byKey[k.Group+"/"+k.Version+"/"+k.Plural] = r
	}
	return reg, nil
}

func (g *registry) get(group, version, plural string) *resource {
	return g.byKey[group+"/"+version+"/"+plural]
}

// byKind finds the resource of a kind in the core group or any group.
func (g *registry) byKind(group, kind string) *resource {
	for _, r := range g.list {
		if r.Group == group && r.Kind == kind {
			return r
		}
	}
	return nil
}

// typed adapts a per-type validation function to behaviour.validate.
func typed[T object](f func(obj, old T) field.ErrorList) func(object, object) field.ErrorList {
	return func(obj, old object) field.ErrorList {
		var o T
		if old != nil {
			o = old.(T)
		}
		return f(obj.(T), o)
	}
}

// typedDefaults adapts a per-type defaulting function.
func typedDefaults[T object](f func(T)) func(object) {
	return func(obj object) { f(obj.(T)) }
}
