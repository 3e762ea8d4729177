package objfile

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/weirnet/weir/vocab/manifest"
)

// Watcher reloads a path when its files change or on demand.
type Watcher struct {
	Path     string
	Interval time.Duration // default 1 s
	Logger   *slog.Logger  // default slog.Default()
	// OnLoad receives every successful reload.
	OnLoad func(Objects)
}

// Run polls until ctx ends. A change is loaded once the files have stayed
// unchanged for one interval (a file caught half-written is not loaded). A value on reload forces a reload (wire it to
// SIGHUP). Run does not load at start: the caller loads first, so it can
// fail on a bad initial file.
func (w *Watcher) Run(ctx context.Context, reload <-chan os.Signal) error {
	interval := w.Interval
	if interval <= 0 {
		interval = time.Second
	}
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	last, _ := Fingerprint(w.Path)
	seen := last
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		force := false
		select {
		case <-ctx.Done():
			return nil
		case <-reload:
			force = true
		case <-t.C:
		}
		fp, err := Fingerprint(w.Path)
		if err != nil {
			log.Warn("cannot stat objects; keeping the last ones", "path", w.Path, "err", err)
			continue
		}
		if fp != seen && !force { // still changing: reload once it has settled
			seen = fp
			continue
		}
		if fp == last && !force {
			continue
		}
		last = fp // a broken file is reported once, not at every poll
		objs, err := Load(w.Path)
		if err != nil {
			log.Warn("reload failed; keeping the last objects (fix the file or send SIGHUP to retry)", "err", err)
			continue
		}
		log.Info("reloaded objects", "path", w.Path, "services", len(objs.Services),
			"endpointslices", len(objs.EndpointSlices), "pods", len(objs.Pods), "skipped", objs.Skipped)
		w.OnLoad(objs)
	}
}

// Fingerprint summarizes the names, sizes and modification times of the
// files under path; it changes when any of them does.
func Fingerprint(path string) (string, error) { return manifest.Fingerprint(path) }
