package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
)

// FieldManager is the field manager weir's apply owns its fields as.
const FieldManager = "weir"

// What Apply did.
const (
	Created    = "created"
	Configured = "configured"
	Unchanged  = "unchanged"
)

// ApplyResult says what Apply did to one object.
type ApplyResult struct {
	Target Target
	Action string // Created, Configured or Unchanged
	Object *unstructured.Unstructured
}

// ApplyOptions tune one server-side apply.
type ApplyOptions struct {
	// ForceConflicts takes over fields other managers own instead of
	// failing with a Conflict (kubectl's --force-conflicts).
	ForceConflicts bool
}

// Apply is ApplyWith without options.
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, nsOpts NamespaceOptions) (ApplyResult, error) {
	return c.ApplyWith(ctx, obj, nsOpts, ApplyOptions{})
}

// ApplyWith sends obj as a server-side apply (an application/apply-patch
// body, field manager "weir"): the server creates the object or merges
// obj's fields into it, and removes the fields weir applied before and
// obj no longer has. What happened is read from the object before and
// after: absent before is Created, the same resourceVersion after (the
// server writes nothing for a no-op apply) is Unchanged, else Configured.
func (c *Client) ApplyWith(ctx context.Context, obj *unstructured.Unstructured, nsOpts NamespaceOptions, o ApplyOptions) (ApplyResult, error) {
	t, err := c.TargetOf(ctx, obj, nsOpts)
	if err != nil {
		return ApplyResult{}, err
	}
	desired := obj.DeepCopy()
	desired.SetNamespace(t.Namespace)
	unstructured.RemoveNestedField(desired.Object, "metadata", "resourceVersion")
	if t.Namespace == "" {
		unstructured.RemoveNestedField(desired.Object, "metadata", "namespace")
	}
	gvr := t.Resource.GVR()
	var live, out *unstructured.Unstructured
	// A create racing another applier (AlreadyExists) or a write racing
	// another writer (a Conflict that names no field manager) is retried;
	// a field-manager conflict is the user's to resolve.
	err = retry.OnError(applyBackoff, func(err error) bool {
		return apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) && !isFieldManagerConflict(err)
	}, func() error {
		var err error
		live, err = c.Get(ctx, gvr, t.Namespace, t.Name)
		switch {
		case apierrors.IsNotFound(err):
			live = nil
		case err != nil:
			return err
		}
		bctx, cancel := c.bounded(ctx)
		defer cancel()
		out, err = c.resource(gvr, t.Namespace).Apply(bctx, t.Name, desired,
			metav1.ApplyOptions{FieldManager: FieldManager, Force: o.ForceConflicts})
		return c.wrapErr(err)
	})
	if isFieldManagerConflict(err) {
		return ApplyResult{}, fmt.Errorf("apply %s: %w\n(another field manager owns these fields: "+
			"change the manifest to agree, or pass --force-conflicts to take them over)", t, err)
	}
	if err != nil {
		return ApplyResult{}, err
	}
	action := Configured
	switch {
	case live == nil:
		action = Created
	case sameObject(live, out):
		action = Unchanged
	}
	return ApplyResult{Target: t, Action: action, Object: out}, nil
}

// applyBackoff spaces the retries of racing appliers.
var applyBackoff = wait.Backoff{Steps: 10, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 1, Cap: 500 * time.Millisecond}

func isFieldManagerConflict(err error) bool {
	var st apierrors.APIStatus
	if !apierrors.IsConflict(err) || !errors.As(err, &st) || st.Status().Details == nil {
		return false
	}
	for _, c := range st.Status().Details.Causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			return true
		}
	}
	return false
}

// sameObject says whether an apply left the object as it was: equal but
// for its resourceVersion and the managedFields' bookkeeping.
func sameObject(before, after *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy()
		unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
		return c.Object
	}
	return equality.Semantic.DeepEqual(strip(before), strip(after))
}
