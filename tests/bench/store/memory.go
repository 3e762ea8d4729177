package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// Memory is the RSS of every member after loading Objects objects (on top
// of those the cells created).
type Memory struct {
	Objects  int            `json:"objects"`
	Object   string         `json:"object"`
	WeirLoad Stats          `json:"weirLoad"`
	EtcdLoad Stats          `json:"etcdLoad"`
	Weir     []MemberMemory `json:"weir"`
	Etcd     []MemberMemory `json:"etcd"`
}

// MemberMemory is one member's resident set and data dir size.
type MemberMemory struct {
	Name       string  `json:"name"`
	RSSMiB     float64 `json:"rssMiB"`
	DataDirMiB float64 `json:"dataDirMiB"`
}

func measureMemory(ctx context.Context, cfg Config, wc *cluster.Cluster, ec *etcdCluster) (*Memory, error) {
	kind := kinds[0]
	mem := &Memory{Objects: cfg.Objects, Object: kind.Label}
	logf(cfg.Log, "loading %d %s objects into weir (%d clients)", cfg.Objects, kind.Label, cfg.LoadClients)
	mem.WeirLoad = load(ctx, cfg.Log, "weir", cfg.Objects, cfg.LoadClients, weirCreate(wc, kind, "load", -1))
	logf(cfg.Log, "loading %d %s objects into etcd (%d clients)", cfg.Objects, kind.Label, cfg.LoadClients)
	mem.EtcdLoad = load(ctx, cfg.Log, "etcd", cfg.Objects, cfg.LoadClients, etcdCreate(ec.client, kind, "load"))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for _, s := range []Stats{mem.WeirLoad, mem.EtcdLoad} {
		if s.Ops < cfg.Objects {
			return nil, fmt.Errorf("load phase: only %d of %d objects stored (%d failed attempts; first: %s)", s.Ops, cfg.Objects, s.Errors, s.FirstError)
		}
	}
	for _, m := range wc.Members {
		kib, err := m.RSSKiB()
		if err != nil {
			return nil, err
		}
		mem.Weir = append(mem.Weir, MemberMemory{Name: m.Name, RSSMiB: float64(kib) / 1024, DataDirMiB: dirMiB(m.DataDir)})
	}
	for i, pid := range ec.pids() {
		kib, err := cluster.ProcessRSSKiB(pid)
		if err != nil {
			return nil, err
		}
		mem.Etcd = append(mem.Etcd, MemberMemory{Name: ec.members[i].name, RSSMiB: float64(kib) / 1024, DataDirMiB: dirMiB(ec.members[i].dir)})
	}
	return mem, nil
}

// load performs n writes with `clients` workers (op gets the worker and
// the object index as seq), reporting progress every 5 s.
func load(ctx context.Context, w io.Writer, system string, n, clients int, op opFunc) Stats {
	var next, done atomic.Int64
	logs := make([]workerLog, clients)
	start := time.Now()
	stop := make(chan struct{})
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Second):
				d := done.Load()
				logf(w, "  %s: %d/%d (%.0f/s)", system, d, n, float64(d)/time.Since(start).Seconds())
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &logs[i]
			for ctx.Err() == nil {
				seq := int(next.Add(1) - 1)
				if seq >= n {
					return
				}
				t0 := time.Now()
				if err := loadOne(ctx, op, i, seq, l); err == nil {
					l.lat = append(l.lat, time.Since(t0))
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	pwg.Wait()
	st := summarize(logs, time.Since(start))
	logf(w, "  %s: loaded %d in %.1f s (%.0f/s, p99 %.1f ms)", system, st.Ops, st.Seconds, st.PerSec, st.P99Ms)
	return st
}

// loadOne creates object seq, retrying a failed write (a leader change)
// up to 10 times; a retry that finds the object there counts as done.
func loadOne(ctx context.Context, op opFunc, worker, seq int, l *workerLog) error {
	var err error
	for attempt := 0; attempt < 10 && ctx.Err() == nil; attempt++ {
		err = op(ctx, worker, seq)
		if err == nil || attempt > 0 && errors.Is(err, errExists) {
			return nil
		}
		l.errs++
		if l.firstErr == nil {
			l.firstErr = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// dirMiB is the apparent size of the files under dir.
func dirMiB(dir string) float64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return float64(total) / (1 << 20)
}
