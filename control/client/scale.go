package client

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ScaleOptions are a scale request: the new replica count and, when
// CurrentReplicas is non-nil, the count the object must have now.
type ScaleOptions struct {
	Replicas        int32
	CurrentReplicas *int32
}

// GetScale reads a Deployment's or ReplicaSet's scale subresource.
func (c *Client) GetScale(ctx context.Context, namespace string, ref WorkloadRef) (*autoscalingv1.Scale, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	var sc *autoscalingv1.Scale
	var err error
	switch ref.GVR {
	case DeploymentsGVR:
		sc, err = c.kube.AppsV1().Deployments(namespace).GetScale(ctx, ref.Name, metav1.GetOptions{})
	case ReplicaSetsGVR:
		sc, err = c.kube.AppsV1().ReplicaSets(namespace).GetScale(ctx, ref.Name, metav1.GetOptions{})
	default:
		return nil, fmt.Errorf("%s has no scale subresource here", ref)
	}
	return sc, c.wrapErr(err)
}

func (c *Client) updateScale(ctx context.Context, namespace string, ref WorkloadRef, sc *autoscalingv1.Scale) error {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	var err error
	if ref.GVR == DeploymentsGVR {
		_, err = c.kube.AppsV1().Deployments(namespace).UpdateScale(ctx, ref.Name, sc, metav1.UpdateOptions{})
	} else {
		_, err = c.kube.AppsV1().ReplicaSets(namespace).UpdateScale(ctx, ref.Name, sc, metav1.UpdateOptions{})
	}
	return c.wrapErr(err)
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
		err = c.updateScale(ctx, namespace, ref, want)
		if err == nil || !apierrors.IsConflict(err) || i == attempts-1 {
			if err != nil {
				return fmt.Errorf("scale %s: %w", ref, err)
			}
			return nil
		}
	}
}
