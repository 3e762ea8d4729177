package client

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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
	resp, err := c.open(ctx, request{method: "GET", path: "/weir/v1/snapshot"})
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	defer resp.Body.Close()
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
