package client

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Target is where a manifest's object lives on the server.
type Target struct {
	Resource  Resource
	Namespace string // "" for cluster-scoped resources
	Name      string
}

// String names the object the way kubectl does: "deployment.apps/web".
func (t Target) String() string { return t.Resource.TypeName() + "/" + t.Name }

// NamespaceOptions say which namespace objects without one go to.
type NamespaceOptions struct {
	// Namespace is the default for namespaced objects that name none.
	Namespace string
	// Explicit is set when the user chose Namespace (-n); an object naming
	// another namespace is then an error rather than a silent move.
	Explicit bool
}

// TargetOf resolves a manifest object's resource (through discovery),
// namespace and name.
func (c *Client) TargetOf(ctx context.Context, obj *unstructured.Unstructured, nsOpts NamespaceOptions) (Target, error) {
	res, err := c.ResourceForKind(ctx, obj.GetAPIVersion(), obj.GetKind())
	if err != nil {
		return Target{}, err
	}
	t := Target{Resource: res, Name: obj.GetName()}
	if t.Name == "" {
		return Target{}, fmt.Errorf("%s: metadata.name is required here (generateName is not supported): set a name", res.TypeName())
	}
	if !res.Namespaced {
		return t, nil
	}
	t.Namespace = obj.GetNamespace()
	switch {
	case t.Namespace == "":
		t.Namespace = nsOpts.Namespace
	case nsOpts.Explicit && t.Namespace != nsOpts.Namespace:
		return Target{}, fmt.Errorf("%s: the namespace from the object %q does not match the namespace %q: "+
			"pass -n %s or remove the namespace from the manifest", t, t.Namespace, nsOpts.Namespace, t.Namespace)
	}
	if t.Namespace == "" {
		t.Namespace = "default"
	}
	return t, nil
}
