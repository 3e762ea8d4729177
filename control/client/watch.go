package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Watch event types, as the server sends them.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
	Error    = "ERROR"
)

// Event is one watch event. For Bookmark, Object carries only the
// resourceVersion.
type Event struct {
	Type   string
	Object *unstructured.Unstructured
}

// Watcher reads one watch stream. Its owner calls Next until it returns an
// error and then Close; no goroutine runs behind it.
type Watcher struct {
	resp   *http.Response
	dec    *json.Decoder
	cancel context.CancelFunc
}

// Watch opens a watch on a collection (namespace "" for all namespaces or
// cluster-scoped resources) from opts.ResourceVersion. The stream lasts
// until ctx ends, Close is called or the server ends it.
func (c *Client) Watch(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts ListOptions) (*Watcher, error) {
	q := opts.query()
	q.Set("watch", "true")
	q.Set("allowWatchBookmarks", "true")
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.open(ctx, request{method: "GET", path: Path(gvr, namespace, ""), query: q})
	if err != nil {
		cancel()
		return nil, err
	}
	return &Watcher{resp: resp, dec: json.NewDecoder(resp.Body), cancel: cancel}, nil
}

// wireEvent is an event as sent on the wire.
type wireEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// Next blocks for the next event. It returns io.EOF when the server ended
// the stream, a *StatusError when the server sent an ERROR event (410 Gone
// means: list again and watch from the list's resourceVersion), or the
// context's error after Close or cancellation.
func (w *Watcher) Next() (Event, error) {
	var we wireEvent
	if err := w.dec.Decode(&we); err != nil {
		if errors.Is(err, io.EOF) {
			return Event{}, io.EOF
		}
		return Event{}, fmt.Errorf("read watch stream: %w", err)
	}
	if we.Type == Error {
		var s metav1.Status
		if err := json.Unmarshal(we.Object, &s); err != nil {
			return Event{}, fmt.Errorf("decode watch error: %w", err)
		}
		return Event{}, &StatusError{ErrStatus: s}
	}
	switch we.Type {
	case Added, Modified, Deleted, Bookmark:
	default:
		return Event{}, fmt.Errorf("watch stream sent unknown event type %q", we.Type)
	}
	obj := &unstructured.Unstructured{}
	if we.Type == Bookmark {
		// A bookmark only carries metadata.resourceVersion; kind is optional.
		if err := json.Unmarshal(we.Object, &obj.Object); err != nil {
			return Event{}, fmt.Errorf("decode watch bookmark: %w", err)
		}
		return Event{Type: we.Type, Object: obj}, nil
	}
	if err := obj.UnmarshalJSON(we.Object); err != nil {
		return Event{}, fmt.Errorf("decode %s watch event: %w", we.Type, err)
	}
	return Event{Type: we.Type, Object: obj}, nil
}

// Close ends the stream. It is idempotent.
func (w *Watcher) Close() error {
	w.cancel()
	return w.resp.Body.Close()
}
