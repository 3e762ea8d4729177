package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// Watch event types, as the server sends them.
const (
	Added    = string(watch.Added)
	Modified = string(watch.Modified)
	Deleted  = string(watch.Deleted)
	Bookmark = string(watch.Bookmark)
	Error    = string(watch.Error)
)

// Event is one watch event. For Bookmark, Object carries only the
// resourceVersion.
type Event struct {
	Type   string
	Object *unstructured.Unstructured
}

// Watcher reads one client-go watch. Its owner calls Next until it
// returns an error and then Close.
type Watcher struct {
	w      watch.Interface
	ctx    context.Context
	cancel context.CancelFunc
}

// Watch opens a watch on a collection (namespace "" for all namespaces or
// cluster-scoped resources) from opts.ResourceVersion, with bookmarks. The
// stream lasts until ctx ends, Close is called or the server ends it.
func (c *Client) Watch(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts ListOptions) (*Watcher, error) {
	lo := opts.kube()
	lo.AllowWatchBookmarks = true
	ctx, cancel := context.WithCancel(ctx)
	w, err := c.resource(gvr, namespace).Watch(ctx, lo)
	if err != nil {
		cancel()
		return nil, c.wrapErr(err)
	}
	return &Watcher{w: w, ctx: ctx, cancel: cancel}, nil
}

// Next blocks for the next event. It returns io.EOF when the server ended
// the stream, an *apierrors.StatusError when the server sent an ERROR event (410 Gone
// means: list again and watch from the list's resourceVersion), or the
// context's error after Close or cancellation.
func (w *Watcher) Next() (Event, error) {
	select {
	case <-w.ctx.Done():
		return Event{}, w.ctx.Err()
	case ev, ok := <-w.w.ResultChan():
		if !ok {
			if err := w.ctx.Err(); err != nil {
				return Event{}, err
			}
			return Event{}, io.EOF
		}
		if ev.Type == watch.Error {
			err := apierrors.FromObject(ev.Object)
			var st apierrors.APIStatus
			if errors.As(err, &st) {
				return Event{}, &apierrors.StatusError{ErrStatus: st.Status()}
			}
			return Event{}, fmt.Errorf("watch error event: %w", err)
		}
		obj, ok := ev.Object.(*unstructured.Unstructured)
		if !ok {
			return Event{}, fmt.Errorf("watch sent a %T, want an object", ev.Object)
		}
		return Event{Type: string(ev.Type), Object: obj}, nil
	}
}

// Close ends the stream. It is idempotent.
func (w *Watcher) Close() error {
	w.cancel()
	w.w.Stop()
	return nil
}
