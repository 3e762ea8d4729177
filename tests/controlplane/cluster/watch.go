package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// WatchEvent is one event of a watch stream.
type WatchEvent struct {
	Type   string          `json:"type"` // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
	Object json.RawMessage `json:"object"`
	Meta   Meta            `json:"-"`
	// Code is the Status code of an ERROR event (410 when the revision is
	// gone).
	Code int `json:"-"`
}

// ErrStreamEnded is returned by Watch when the server closed the stream.
var ErrStreamEnded = errors.New("watch stream ended")

// Watch opens a watch on the collection at path (e.g.
// /api/v1/namespaces/default/configmaps) from resourceVersion rv and calls
// fn for each event until ctx ends (nil), the stream ends (ErrStreamEnded
// or the transport error) or fn returns an error (returned as is).
func (c *Client) Watch(ctx context.Context, path string, rv uint64, fn func(WatchEvent) error) error {
	url := fmt.Sprintf("%s%s?watch=true&resourceVersion=%d&allowWatchBookmarks=true", c.Base, path, rv)
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return ctxOr(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("watch %s from %d: %d %s", path, rv, resp.StatusCode, bytes.TrimSpace(body))
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev WatchEvent
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				err = ErrStreamEnded
			}
			return ctxOr(ctx, err)
		}
		if err := ev.decode(); err != nil {
			return err
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

func (ev *WatchEvent) decode() error {
	if ev.Type == "ERROR" {
		var st struct {
			Code int `json:"code"`
		}
		_ = json.Unmarshal(ev.Object, &st)
		ev.Code = st.Code
		return nil
	}
	m, err := MetaOf(ev.Object)
	if err != nil {
		return fmt.Errorf("watch event %s: %w", ev.Type, err)
	}
	ev.Meta = m
	return nil
}

// ctxOr returns nil when ctx ended (the caller stopped the watch), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
