package client

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// ListOptions narrow a List or Watch.
type ListOptions struct {
	LabelSelector string
	FieldSelector string
	// ResourceVersion: for Watch, deliver events after this revision
	// ("" or "0": from now).
	ResourceVersion string
	// Limit and Continue page a list (kube's chunking: every page is of
	// the first page's revision).
	Limit    int64
	Continue string
}

func (o ListOptions) kube() metav1.ListOptions {
	return metav1.ListOptions{LabelSelector: o.LabelSelector, FieldSelector: o.FieldSelector, ResourceVersion: o.ResourceVersion,
		Limit: o.Limit, Continue: o.Continue}
}

// resource is the dynamic client for gvr in namespace ("" for
// cluster-scoped resources, or all namespaces).
func (c *Client) resource(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	if namespace == "" {
		return c.dyn.Resource(gvr)
	}
	return c.dyn.Resource(gvr).Namespace(namespace)
}

// Get reads one object. namespace is "" for cluster-scoped resources.
func (c *Client) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	if name == "" {
		return nil, fmt.Errorf("get %s: name is empty", gvr.Resource)
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	obj, err := c.resource(gvr, namespace).Get(ctx, name, metav1.GetOptions{})
	return obj, c.wrapErr(err)
}

// List reads a collection: in namespace, or in all namespaces when
// namespace is "".
func (c *Client) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts ListOptions) (*unstructured.UnstructuredList, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	list, err := c.resource(gvr, namespace).List(ctx, opts.kube())
	return list, c.wrapErr(err)
}

// Create posts obj into its collection and returns what the server stored.
func (c *Client) Create(ctx context.Context, gvr schema.GroupVersionResource, namespace string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	out, err := c.resource(gvr, namespace).Create(ctx, obj, metav1.CreateOptions{})
	return out, c.wrapErr(err)
}

// Update replaces an object (PUT). obj's metadata.resourceVersion makes it
// conditional: a stale one gets a Conflict error.
func (c *Client) Update(ctx context.Context, gvr schema.GroupVersionResource, namespace string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if obj.GetName() == "" {
		return nil, fmt.Errorf("update %s: metadata.name is empty", gvr.Resource)
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	out, err := c.resource(gvr, namespace).Update(ctx, obj, metav1.UpdateOptions{})
	return out, c.wrapErr(err)
}

// Delete removes one object.
func (c *Client) Delete(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) error {
	return c.DeleteWith(ctx, gvr, namespace, name, DeleteOptions{})
}
