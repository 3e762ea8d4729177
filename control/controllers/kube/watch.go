package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// listBody is a list answer with its items left raw.
type listBody struct {
	Metadata metav1.ListMeta   `json:"metadata"`
	Items    []json.RawMessage `json:"items"`
}

// listRaw lists a whole collection (all namespaces) and returns the raw
// items and the list's resourceVersion.
func (c *Client) listRaw(ctx context.Context, k Kind) ([]json.RawMessage, string, error) {
	var lb listBody
	if err := c.do(ctx, http.MethodGet, k.path("", "", ""), nil, &lb); err != nil {
		return nil, "", err
	}
	return lb.Items, lb.Metadata.ResourceVersion, nil
}

// wireEvent is one watch event as sent on the wire.
type wireEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// stream is an open watch. Its owner calls next until it fails, then close.
type stream struct {
	resp *http.Response
	dec  *json.Decoder
}

// watch opens a watch of the whole collection after resourceVersion rv.
func (c *Client) watch(ctx context.Context, k Kind, rv string) (*stream, error) {
	q := url.Values{"watch": {"true"}, "allowWatchBookmarks": {"true"}, "resourceVersion": {rv}}
	resp, err := c.open(ctx, http.MethodGet, k.path("", "", "")+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	return &stream{resp: resp, dec: json.NewDecoder(resp.Body)}, nil
}

// next reads one event; an ERROR event comes back as *apierrors.StatusError
// (410 Gone: relist).
func (s *stream) next() (wireEvent, error) {
	var ev wireEvent
	if err := s.dec.Decode(&ev); err != nil {
		if err == io.EOF {
			return ev, io.EOF
		}
		return ev, fmt.Errorf("read watch stream: %w", err)
	}
	if ev.Type == "ERROR" {
		var st metav1.Status
		if err := json.Unmarshal(ev.Object, &st); err != nil {
			return ev, fmt.Errorf("decode watch error: %w", err)
		}
		return ev, &apierrors.StatusError{ErrStatus: st}
	}
	return ev, nil
}

func (s *stream) close() { s.resp.Body.Close() }
