package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RevisionHeader carries the revision a snapshot was taken at.
const RevisionHeader = "X-Weir-Revision"

// SnapshotInfo describes a saved snapshot.
type SnapshotInfo struct {
	Path     string
	Revision uint64
	Size     int64
}

// SaveSnapshot streams the server's state snapshot to path atomically: a
// temporary file in the same directory, fsynced, then renamed over path and
// the directory fsynced. A failed or interrupted save leaves path as it was.
func (c *Client) SaveSnapshot(ctx context.Context, path string) (SnapshotInfo, error) {
	// The revision comes in a response header, which client-go's Stream
	// does not show: the request goes through the client's http.Client
	// (client-go's TLS and bearer-token transport).
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.rest.Get().AbsPath("/weir/v1/snapshot").URL().String(), nil)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", c.wrapErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", statusFromBody(resp.StatusCode, body))
	}
	rev, err := strconv.ParseUint(resp.Header.Get(RevisionHeader), 10, 64)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: the server sent no valid %s header (%q); is it a weir server?",
			RevisionHeader, resp.Header.Get(RevisionHeader))
	}
	size, err := writeAtomic(path, resp.Body)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	return SnapshotInfo{Path: path, Revision: rev, Size: size}, nil
}

// writeAtomic copies r into path via a synced temporary file and rename.
func writeAtomic(path string, r io.Reader) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("create temporary file next to %s: %w", path, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, r)
	if err != nil {
		return 0, fmt.Errorf("write %s after %d bytes: %w", tmp.Name(), n, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("rename into %s: %w", path, err)
	}
	committed = true
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return n, fmt.Errorf("fsync directory %s: %w", dir, err)
		}
	}
	return n, nil
}

// statusFromBody is the server's Status in an error body, or one made
// from the HTTP code when the body is not a Status.
func statusFromBody(code int, body []byte) error {
	var s metav1.Status
	if err := json.Unmarshal(body, &s); err == nil && s.Kind == "Status" {
		if s.Code == 0 {
			s.Code = int32(code)
		}
		return &apierrors.StatusError{ErrStatus: s}
	}
	return apierrors.NewGenericServerResponse(code, http.MethodGet,
		schema.GroupResource{Resource: "snapshot"}, "", string(body), 0, false)
}
