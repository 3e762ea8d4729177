package kube

import (
	"context"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ForceDelete removes an object at once (gracePeriodSeconds 0: a pod is
// not left to its node's agent to stop), conditional on its uid when
// uid is non-empty. The answer is decoded into out when out is non-nil.
func (c *Client) ForceDelete(ctx context.Context, k Kind, ns, name string, uid types.UID, out any) error {
	zero := int64(0)
	opts := &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{Kind: "DeleteOptions", APIVersion: "v1"}, GracePeriodSeconds: &zero}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	return c.do(ctx, http.MethodDelete, k.path(ns, name, ""), opts, out)
}
