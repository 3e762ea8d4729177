package dataplane

import (
	"context"
	"time"

	"github.com/weirnet/weir/vocab/manifest"
)

// Serve syncs m from the Service and EndpointSlice objects at path (file or
// directory, see ReadObjects), then again whenever the files change, until
// ctx ends. A file that fails to parse is reported and the last good state
// is kept. Changes are found by polling every interval (default 500ms) and
// applied once the files have stayed unchanged for one interval, so that a
// file caught half-written (truncated, not yet filled) is never applied.
func Serve(ctx context.Context, m *Manager, path string, interval time.Duration) error {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	fp, err := manifest.Fingerprint(path)
	if err != nil {
		return err
	}
	if err := m.syncFrom(ctx, path); err != nil {
		return err
	}
	applied, seen := fp, fp
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		fp, err := manifest.Fingerprint(path)
		if err != nil {
			continue
		}
		if fp != seen { // still changing: wait until it settles
			seen = fp
			continue
		}
		if fp != applied {
			applied = fp
			_ = m.syncFrom(ctx, path) // errors are logged; the last good state stays
		}
	}
}

func (m *Manager) syncFrom(ctx context.Context, path string) error {
	svcs, eps, err := ReadObjects(path)
	if err != nil {
		m.log.Error("services not applied; keeping the previous state", "path", path, "err", err)
		return err
	}
	d, convErr := DesiredFromObjects(svcs, eps)
	if convErr != nil {
		m.log.Warn("some objects skipped", "err", convErr)
	}
	st, err := m.Sync(ctx, d)
	if err != nil {
		m.log.Error("sync", "err", err)
	}
	m.log.Info("synced", "path", path, "services", st.Services, "added", st.Added, "updated", st.Updated,
		"removed", st.Removed, "failed", st.Failed, "writes", st.Writes, "duration", st.Duration)
	return err
}
