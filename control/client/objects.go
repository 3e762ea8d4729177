package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ListOptions narrow a List or Watch.
type ListOptions struct {
	LabelSelector string
	FieldSelector string
	// ResourceVersion: for Watch, deliver events after this revision
	// ("" or "0": from now).
	ResourceVersion string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	if o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	return q
}

// Path is the REST path of a resource collection (name "") or object:
// /api/v1/namespaces/NS/pods/NAME, /apis/apps/v1/deployments... An empty
// namespace means cluster-scoped, or all namespaces for a list.
func Path(gvr schema.GroupVersionResource, namespace, name string) string {
	var b strings.Builder
	if gvr.Group == "" {
		b.WriteString("/api/" + gvr.Version)
	} else {
		b.WriteString("/apis/" + gvr.Group + "/" + gvr.Version)
	}
	if namespace != "" {
		b.WriteString("/namespaces/" + url.PathEscape(namespace))
	}
	b.WriteString("/" + gvr.Resource)
	if name != "" {
		b.WriteString("/" + url.PathEscape(name))
	}
	return b.String()
}

// Get reads one object. namespace is "" for cluster-scoped resources.
func (c *Client) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	if name == "" {
		return nil, fmt.Errorf("get %s: name is empty", gvr.Resource)
	}
	obj := &unstructured.Unstructured{}
	err := c.do(ctx, request{method: "GET", path: Path(gvr, namespace, name)}, obj)
	return obj, err
}

// List reads a collection: in namespace, or in all namespaces when
// namespace is "".
func (c *Client) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts ListOptions) (*unstructured.UnstructuredList, error) {
	list := &unstructured.UnstructuredList{}
	err := c.do(ctx, request{method: "GET", path: Path(gvr, namespace, ""), query: opts.query()}, list)
	return list, err
}

// Create posts obj into its collection and returns what the server stored.
func (c *Client) Create(ctx context.Context, gvr schema.GroupVersionResource, namespace string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	out := &unstructured.Unstructured{}
	err := c.do(ctx, request{method: "POST", path: Path(gvr, namespace, ""), body: obj.Object}, out)
	return out, err
}

// Update replaces an object (PUT). obj's metadata.resourceVersion makes it
// conditional: a stale one gets a Conflict error.
func (c *Client) Update(ctx context.Context, gvr schema.GroupVersionResource, namespace string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if obj.GetName() == "" {
		return nil, fmt.Errorf("update %s: metadata.name is empty", gvr.Resource)
	}
	out := &unstructured.Unstructured{}
	err := c.do(ctx, request{method: "PUT", path: Path(gvr, namespace, obj.GetName()), body: obj.Object}, out)
	return out, err
}

// Delete removes one object.
func (c *Client) Delete(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) error {
	if name == "" {
		return fmt.Errorf("delete %s: name is empty", gvr.Resource)
	}
	return c.do(ctx, request{method: "DELETE", path: Path(gvr, namespace, name)}, nil)
}

func splitAPIVersion(apiVersion string) (group, version string, err error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || gv.Version == "" {
		return "", "", fmt.Errorf("invalid apiVersion %q: want v1 or GROUP/VERSION", apiVersion)
	}
	return gv.Group, gv.Version, nil
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
