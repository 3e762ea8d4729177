package client

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DeleteOptions are the options of one DELETE.
type DeleteOptions struct {
	// PropagationPolicy is what happens to the object's dependents:
	// Background (the server's default when empty: the object goes at
	// once, the garbage collector removes its dependents afterwards),
	// Foreground (the dependents go first; the object stays, with a
	// deletionTimestamp, until then) or Orphan (the dependents are kept).
	PropagationPolicy metav1.DeletionPropagation
}

// ParseCascade maps kubectl's --cascade values to a propagation policy:
// background (also "true"), foreground, orphan (also "false", the old
// spelling).
func ParseCascade(v string) (metav1.DeletionPropagation, error) {
	switch v {
	case "background", "true":
		return metav1.DeletePropagationBackground, nil
	case "foreground":
		return metav1.DeletePropagationForeground, nil
	case "orphan", "false":
		return metav1.DeletePropagationOrphan, nil
	}
	return "", fmt.Errorf("invalid --cascade %q: want background, foreground or orphan", v)
}

// DeleteWith removes one object with options, sent as a DeleteOptions
// body as kubectl does.
func (c *Client) DeleteWith(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, opts DeleteOptions) error {
	if name == "" {
		return fmt.Errorf("delete %s: name is empty", gvr.Resource)
	}
	var o metav1.DeleteOptions
	if opts.PropagationPolicy != "" {
		p := opts.PropagationPolicy
		o.PropagationPolicy = &p
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	return c.wrapErr(c.resource(gvr, namespace).Delete(ctx, name, o))
}
