package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// TableAccept is the Accept header kubectl's get sends: a server-side
// Table, else the object.
const TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

// tableClient is a RESTClient that asks for Tables and decodes whatever
// comes (a Table, a Status, or a plain object from a server that does not
// convert it) as unstructured, as the dynamic client does.
func tableClient(rc *rest.Config, hc *http.Client) (*rest.RESTClient, error) {
	cfg := dynamic.ConfigFor(rc)
	cfg.AcceptContentTypes = TableAccept
	return rest.UnversionedRESTClientForConfigAndClient(cfg, hc)
}

// asTable converts a decoded answer into a Table; ok is false when it is
// not one.
func asTable(obj runtime.Object) (*metav1.Table, bool, error) {
	u, isU := obj.(*unstructured.Unstructured)
	if !isU || u.GetKind() != "Table" {
		return nil, false, nil
	}
	t := &metav1.Table{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t); err != nil {
		return nil, false, fmt.Errorf("decode the server's Table: %w", err)
	}
	return t, true, nil
}

// tablePath is the REST path of a collection (name "") or object.
func tablePath(gvr schema.GroupVersionResource, namespace, name string) []string {
	p := []string{"/apis", gvr.Group, gvr.Version}
	if gvr.Group == "" {
		p = []string{"/api", gvr.Version}
	}
	if namespace != "" {
		p = append(p, "namespaces", namespace)
	}
	p = append(p, gvr.Resource)
	if name != "" {
		p = append(p, name)
	}
	return p
}

func (o ListOptions) params(r *rest.Request) *rest.Request {
	if o.LabelSelector != "" {
		r.Param("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		r.Param("fieldSelector", o.FieldSelector)
	}
	if o.ResourceVersion != "" {
		r.Param("resourceVersion", o.ResourceVersion)
	}
	if o.Limit > 0 {
		r.Param("limit", strconv.FormatInt(o.Limit, 10))
	}
	if o.Continue != "" {
		r.Param("continue", o.Continue)
	}
	return r
}

// Table asks the server for its Table of one object (name != "") or of a
// collection (namespace "" for all namespaces or cluster-scoped
// resources): kube-apiserver's columns and cells, each row with its
// object's metadata (includeObject=Metadata).
func (c *Client) Table(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, opts ListOptions) (*metav1.Table, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	r := c.tables.Get().AbsPath(tablePath(gvr, namespace, name)...)
	if name == "" {
		opts.params(r)
	}
	obj, err := r.Do(ctx).Get()
	if err != nil {
		return nil, c.wrapErr(err)
	}
	t, ok, err := asTable(obj)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the server answered a Table request with %s: it does not serve server-side tables",
			obj.GetObjectKind().GroupVersionKind().Kind)
	}
	return t, nil
}

// TableEvent is one event of a Table watch: the Table holds the changed
// object's row (the column definitions come with the first event only).
// A server that sends the objects themselves in a watch leaves Table nil
// and sets Object.
type TableEvent struct {
	Type   string
	Table  *metav1.Table
	Object *unstructured.Unstructured
}

// TableWatcher reads a watch whose events carry Tables.
type TableWatcher struct {
	w      watch.Interface
	ctx    context.Context
	cancel context.CancelFunc
}

// WatchTable opens a watch of a collection whose objects come as Table
// rows, as kubectl's `get -w` asks for them.
func (c *Client) WatchTable(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts ListOptions) (*TableWatcher, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := c.tables.Get().AbsPath(tablePath(gvr, namespace, "")...).Param("watch", "true")
	w, err := opts.params(r).Watch(ctx)
	if err != nil {
		cancel()
		return nil, c.wrapErr(err)
	}
	return &TableWatcher{w: w, ctx: ctx, cancel: cancel}, nil
}

// Next blocks for the next event; errors as Watcher.Next.
func (w *TableWatcher) Next() (TableEvent, error) {
	select {
	case <-w.ctx.Done():
		return TableEvent{}, w.ctx.Err()
	case ev, ok := <-w.w.ResultChan():
		if !ok {
			if err := w.ctx.Err(); err != nil {
				return TableEvent{}, err
			}
			return TableEvent{}, io.EOF
		}
		if ev.Type == watch.Error {
			err := apierrors.FromObject(ev.Object)
			var st apierrors.APIStatus
			if errors.As(err, &st) {
				return TableEvent{}, &apierrors.StatusError{ErrStatus: st.Status()}
			}
			return TableEvent{}, fmt.Errorf("watch error event: %w", err)
		}
		t, ok, err := asTable(ev.Object)
		if err != nil {
			return TableEvent{}, err
		}
		if ok {
			return TableEvent{Type: string(ev.Type), Table: t}, nil
		}
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok {
			return TableEvent{}, fmt.Errorf("watch sent a %T, want an object", ev.Object)
		}
		return TableEvent{Type: string(ev.Type), Object: u}, nil
	}
}

// Close ends the stream. It is idempotent.
func (w *TableWatcher) Close() error {
	w.cancel()
	w.w.Stop()
	return nil
}
