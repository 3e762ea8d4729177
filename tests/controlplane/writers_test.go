package controlplane

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// outcome is what a writer knows about one create.
type outcome int

const (
	acked   outcome = iota // 201 with a resourceVersion
	landed                 // a retry answered AlreadyExists: an earlier attempt applied; rv read back
	unknown                // gave up without an answer; the object may or may not exist
)

// write is one logical create (possibly several attempts).
type write struct {
	name     string
	writer   int
	seq      int
	start    time.Time // first attempt sent
	end      time.Time // acknowledgement (or read-back) received
	rv       uint64
	outcome  outcome
	attempts int
}

// writers create ConfigMaps concurrently, each through its own member and
// on to the next one when a member fails, retrying a create until its
// outcome is known.
type writers struct {
	c      *cluster.Cluster
	prefix string

	mu        sync.Mutex
	writes    []write
	anomalies []string
	maxRV     uint64

	stop chan struct{}
	wg   sync.WaitGroup
}

func startWriters(ctx context.Context, c *cluster.Cluster, n int, prefix string) *writers {
	ws := &writers{c: c, prefix: prefix, stop: make(chan struct{})}
	for i := 0; i < n; i++ {
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			ws.run(ctx, i)
		}()
	}
	return ws
}

func (ws *writers) run(ctx context.Context, id int) {
	for seq := 0; ; seq++ {
		select {
		case <-ws.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		name := fmt.Sprintf("%s%d-%05d", ws.prefix, id, seq)
		ws.record(create(ctx, ws.c, id, name, seq, ws.anomaly))
	}
}

func (ws *writers) record(w write) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.writes = append(ws.writes, w)
	if w.outcome != unknown && w.rv > ws.maxRV {
		ws.maxRV = w.rv
	}
}

func (ws *writers) anomaly(format string, args ...any) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.anomalies = append(ws.anomalies, fmt.Sprintf(format, args...))
}

// maxAcked is the highest revision acknowledged so far.
func (ws *writers) maxAcked() uint64 {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.maxRV
}

// Stop ends the writers (each finishes its current create) and returns
// every write and anomaly.
func (ws *writers) Stop() ([]write, []string) {
	close(ws.stop)
	ws.wg.Wait()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]write(nil), ws.writes...), append([]string(nil), ws.anomalies...)
}

// create makes ConfigMap name, starting at member `first` and moving to
// the next member after a failed attempt, until the outcome is known or
// 30 s have passed.
func create(ctx context.Context, c *cluster.Cluster, first int, name string, seq int, anomaly func(string, ...any)) write {
	body := configMap(name, map[string]string{"seq": strconv.Itoa(seq)})
	w := write{name: name, writer: first, seq: seq, start: time.Now(), outcome: unknown}
	deadline := w.start.Add(30 * time.Second)
	n := len(c.Members)
	for attempt := 0; time.Now().Before(deadline) && ctx.Err() == nil; attempt++ {
		m := c.Members[(first+attempt)%n]
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := m.Client.Do(rctx, "POST", cmPath, body)
		cancel()
		w.attempts++
		switch {
		case err != nil || r.Code >= 500:
			time.Sleep(50 * time.Millisecond) // unknown: try the next member
		case r.Code == 201:
			meta, err := cluster.MetaOf(r.Body)
			if err != nil || meta.Revision() == 0 {
				anomaly("create %s: 201 without a resourceVersion: %s", name, r.Body)
				return w
			}
			w.rv, w.end, w.outcome = meta.Revision(), time.Now(), acked
			return w
		case r.Code == 409 && attempt > 0:
			return readBack(ctx, c, w, anomaly)
		default:
			anomaly("create %s via %s (attempt %d): unexpected %d %s", name, m.Name, attempt+1, r.Code, r.Body)
			return w
		}
	}
	return w
}

// readBack learns the revision of a create that an earlier attempt applied.
func readBack(ctx context.Context, c *cluster.Cluster, w write, anomaly func(string, ...any)) write {
	for i := 0; i < 300 && ctx.Err() == nil; i++ {
		m := c.Members[i%len(c.Members)]
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := m.Client.Do(rctx, "GET", cmPath+"/"+w.name, nil)
		cancel()
		if err == nil && r.Code == 200 {
			if meta, err := cluster.MetaOf(r.Body); err == nil && meta.Revision() != 0 {
				w.rv, w.end, w.outcome = meta.Revision(), time.Now(), landed
				return w
			}
		}
		if err == nil && r.Code == 404 {
			anomaly("create %s answered AlreadyExists, but a read on %s says 404 %s", w.name, m.Name, r.Body)
			return w
		}
		time.Sleep(100 * time.Millisecond)
	}
	return w
}
