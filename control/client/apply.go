package client

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// LastAppliedAnnotation records the configuration apply last sent, so the
// next apply knows which fields it owns. It is kubectl's key, so weir and
// kubectl agree on what was applied.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// What Apply did.
const (
	Created    = "created"
	Configured = "configured"
	Unchanged  = "unchanged"
)

// applyAttempts bounds the read-modify-write retries of one Apply; the
// waits between them grow from retryBase to retryMax, with jitter so that
// racing appliers spread out.
const (
	applyAttempts = 10
	retryBase     = 10 * time.Millisecond
	retryMax      = 500 * time.Millisecond
)

// ApplyResult says what Apply did to one object.
type ApplyResult struct {
	Target Target
	Action string // Created, Configured or Unchanged
	Object *unstructured.Unstructured
}

// Apply creates obj, or updates the live object to match it: GET; absent:
// POST; present: PUT the three-way merge of live, last applied and obj
// with the live resourceVersion (nothing when that changes nothing),
// retrying on conflicts.
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, nsOpts NamespaceOptions) (ApplyResult, error) {
	t, err := c.TargetOf(ctx, obj, nsOpts)
	if err != nil {
		return ApplyResult{}, err
	}
	desired, err := desiredObject(obj, t)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("apply %s: %w", t, err)
	}
	gvr := t.Resource.GVR()
	var lastErr error
	for attempt := range applyAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return ApplyResult{}, fmt.Errorf("apply %s: %w (last error: %w)", t, err, lastErr)
			}
		}
		live, err := c.Get(ctx, gvr, t.Namespace, t.Name)
		switch {
		case apierrors.IsNotFound(err):
			created, err := c.Create(ctx, gvr, t.Namespace, desired)
			if apierrors.IsAlreadyExists(err) {
				lastErr = err
				continue // created meanwhile: update it instead
			}
			return ApplyResult{Target: t, Action: Created, Object: created}, err
		case err != nil:
			return ApplyResult{}, err
		}
		next := planUpdate(live, desired)
		if next == nil {
			return ApplyResult{Target: t, Action: Unchanged, Object: live}, nil
		}
		updated, err := c.Update(ctx, gvr, t.Namespace, next)
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			lastErr = err
			continue // changed or deleted meanwhile: read again
		}
		return ApplyResult{Target: t, Action: Configured, Object: updated}, err
	}
	return ApplyResult{}, fmt.Errorf("apply %s: gave up after %d attempts, the object keeps changing: %w", t, applyAttempts, lastErr)
}

// desiredObject is obj as apply sends it: in its target namespace, without
// a resourceVersion, annotated with its own configuration.
func desiredObject(obj *unstructured.Unstructured, t Target) (*unstructured.Unstructured, error) {
	d := obj.DeepCopy()
	d.SetNamespace(t.Namespace)
	unstructured.RemoveNestedField(d.Object, "metadata", "resourceVersion")
	ann := d.GetAnnotations()
	delete(ann, LastAppliedAnnotation)
	if len(ann) == 0 {
		ann = nil
	}
	d.SetAnnotations(ann)
	if t.Namespace == "" {
		unstructured.RemoveNestedField(d.Object, "metadata", "namespace")
	}
	cfg, err := json.Marshal(d.Object)
	if err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	if ann == nil {
		ann = map[string]string{}
	}
	ann[LastAppliedAnnotation] = string(cfg) + "\n"
	d.SetAnnotations(ann)
	return d, nil
}

// planUpdate returns the object to PUT, or nil when live already matches.
func planUpdate(live, desired *unstructured.Unstructured) *unstructured.Unstructured {
	var last map[string]any
	if s, ok := live.GetAnnotations()[LastAppliedAnnotation]; ok {
		if err := json.Unmarshal([]byte(s), &last); err != nil {
			last = nil // unreadable: treat as never applied
		}
	}
	merged := &unstructured.Unstructured{Object: mergeObject(live.Object, last, desired.Object)}
	merged.SetResourceVersion(live.GetResourceVersion())
	if equalValues(merged.Object, live.Object) {
		return nil
	}
	return merged
}

// backoff waits before retry number attempt (1-based): a random time up to
// retryBase doubled per attempt, capped at retryMax.
func backoff(ctx context.Context, attempt int) error {
	limit := min(retryBase<<(attempt-1), retryMax)
	timer := time.NewTimer(time.Duration(rand.Int64N(int64(limit))) + time.Millisecond)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
