package client

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ScaleOptions are a scale request: the new replica count and, when
// CurrentReplicas is non-nil, the count the object must have now.
type ScaleOptions struct {
	Replicas        int32
	CurrentReplicas *int32
}

// GetScale reads a Deployment's or ReplicaSet's scale subresource.
func (c *Client) GetScale(ctx context.Context, namespace string, ref WorkloadRef) (*autoscalingv1.Scale, error) {
	sc := &autoscalingv1.Scale{}
	if err := c.do(ctx, request{method: "GET", path: scalePath(namespace, ref)}, sc); err != nil {
		return nil, err
	}
	return sc, nil
}

// Scale sets spec.replicas through the scale subresource. With a
// CurrentReplicas precondition the write is conditional on the revision
// it checked, so a concurrent change fails it instead of being lost.
func (c *Client) Scale(ctx context.Context, namespace string, ref WorkloadRef, o ScaleOptions) error {
	if o.Replicas < 0 {
		return fmt.Errorf("invalid replicas %d: pass --replicas 0 or more", o.Replicas)
	}
	const attempts = 5
	for i := 0; ; i++ {
		cur, err := c.GetScale(ctx, namespace, ref)
		if err != nil {
			return err
		}
		want := &autoscalingv1.Scale{TypeMeta: cur.TypeMeta, ObjectMeta: cur.ObjectMeta, Spec: autoscalingv1.ScaleSpec{Replicas: o.Replicas}}
		if o.CurrentReplicas == nil {
			want.ResourceVersion = ""
		} else if cur.Spec.Replicas != *o.CurrentReplicas {
			return fmt.Errorf("precondition failed: expected %s to have %d replicas, it has %d: check it and retry with --current-replicas %d, or leave that flag out",
				ref, *o.CurrentReplicas, cur.Spec.Replicas, cur.Spec.Replicas)
		}
		err = c.do(ctx, request{method: "PUT", path: scalePath(namespace, ref), body: want}, nil)
		if err == nil || !apierrors.IsConflict(err) || i == attempts-1 {
			if err != nil {
				return fmt.Errorf("scale %s: %w", ref, err)
			}
			return nil
		}
	}
}

func scalePath(namespace string, ref WorkloadRef) string {
	return Path(ref.GVR, namespace, ref.Name) + "/scale"
}
