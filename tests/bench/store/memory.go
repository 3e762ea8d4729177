package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// MemberMemory is one member's resident set (VmRSS, split into anonymous
// memory, mostly the Go heap, and file pages, mostly mmapped bbolt files)
// and its data dir size (apparent, per file in Files).
type MemberMemory struct {
	Name       string             `json:"name"`
	RSSMiB     float64            `json:"rssMiB"`
	AnonMiB    float64            `json:"anonMiB"`
	FileMiB    float64            `json:"fileMiB"`
	DataDirMiB float64            `json:"dataDirMiB"`
	Files      map[string]float64 `json:"filesMiB"`
	// From the member's /metrics: Go heap in use, and heap held but
	// unused (idle minus released to the OS).
	HeapInuseMiB    float64 `json:"heapInuseMiB"`
	HeapRetainedMiB float64 `json:"heapRetainedMiB"`
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
		mm, err := memberMemory(m.Name, m.PID(), m.DataDir)
		if err != nil {
			return nil, err
		}
		if r, err := m.Client.Do(ctx, "GET", "/metrics", nil); err == nil && r.Code == 200 {
			mm.setHeap(r.Body)
		}
		mem.Weir = append(mem.Weir, mm)
	}
	for i, pid := range ec.pids() {
		mm, err := memberMemory(ec.members[i].name, pid, ec.members[i].dir)
		if err != nil {
			return nil, err
		}
		if body, err := httpGet(ctx, ec.endpoints[i]+"/metrics"); err == nil {
			mm.setHeap(body)
		}
		mem.Etcd = append(mem.Etcd, mm)
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
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		err = op(octx, worker, seq)
		cancel()
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

func memberMemory(name string, pid int, dir string) (MemberMemory, error) {
	st, err := procStatus(pid)
	if err != nil {
		return MemberMemory{}, err
	}
	mm := MemberMemory{Name: name, RSSMiB: st["VmRSS"] / 1024, AnonMiB: st["RssAnon"] / 1024, FileMiB: st["RssFile"] / 1024}
	mm.DataDirMiB, mm.Files = dirMiB(dir)
	return mm, nil
}

// setHeap takes the Go heap figures from a Prometheus text exposition.
func (m *MemberMemory) setHeap(metrics []byte) {
	v := map[string]float64{}
	for _, line := range strings.Split(string(metrics), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], "go_memstats_heap_") {
			v[f[0]], _ = strconv.ParseFloat(f[1], 64)
		}
	}
	m.HeapInuseMiB = v["go_memstats_heap_inuse_bytes"] / (1 << 20)
	m.HeapRetainedMiB = (v["go_memstats_heap_idle_bytes"] - v["go_memstats_heap_released_bytes"]) / (1 << 20)
}

func httpGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// procStatus reads the kB fields of /proc/PID/status.
func procStatus(pid int) (map[string]float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseFloat(f[0], 64); err == nil {
				out[k] = n
			}
		}
	}
	return out, nil
}

// dirMiB is the apparent size of the files under dir, in total and per
// file (snapshot and WAL directories summed as one entry).
func dirMiB(dir string) (float64, map[string]float64) {
	var total int64
	files := map[string]float64{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		total += info.Size()
		rel, _ := filepath.Rel(dir, path)
		top := strings.SplitN(rel, string(filepath.Separator), 2)[0]
		files[top] += float64(info.Size()) / (1 << 20)
		return nil
	})
	return float64(total) / (1 << 20), files
}
