package controlplane

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

type watchedEvent struct {
	typ  string
	name string
	rv   uint64
}

// watchConn is one watch request: on which member, how long it stayed
// open and how many events it delivered.
type watchConn struct {
	member         string
	opened, closed time.Time
	events         int
	lastEvent      time.Time
	err            error
}

// watcher follows the ConfigMaps of namespace default from a revision.
// With reconnect, a stream that ends (its member was killed) is opened
// again on the next member from the last revision seen, as a client would.
type watcher struct {
	c         *cluster.Cluster
	reconnect bool

	mu        sync.Mutex
	from      uint64
	lastRV    uint64
	events    []watchedEvent
	conns     []watchConn
	anomalies []string

	cancel context.CancelFunc
	done   chan struct{}
}

func startWatcher(ctx context.Context, c *cluster.Cluster, member int, from uint64, reconnect bool) *watcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{c: c, reconnect: reconnect, from: from, lastRV: from, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.run(ctx, member)
	}()
	return w
}

func (w *watcher) run(ctx context.Context, member int) {
	for ctx.Err() == nil {
		m := w.c.Members[member]
		conn := watchConn{member: m.Name, opened: time.Now()}
		err := m.Client.Watch(ctx, cmPath, w.last(), func(ev cluster.WatchEvent) error {
			return w.onEvent(ev, &conn)
		})
		conn.closed, conn.err = time.Now(), err
		w.mu.Lock()
		w.conns = append(w.conns, conn)
		w.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if !w.reconnect || err != nil && strings.Contains(err.Error(), "code 410") {
			w.note("watch on %s from %d ended: %v", m.Name, w.last(), err)
			return
		}
		time.Sleep(100 * time.Millisecond)
		member = (member + 1) % len(w.c.Members)
	}
}

func (w *watcher) onEvent(ev cluster.WatchEvent, conn *watchConn) error {
	switch ev.Type {
	case "ERROR":
		return fmt.Errorf("ERROR event, code %d: %s", ev.Code, ev.Object)
	case "BOOKMARK":
		w.mu.Lock()
		if rv := ev.Meta.Revision(); rv > w.lastRV {
			w.lastRV = rv
		}
		w.mu.Unlock()
		return nil
	}
	rv := ev.Meta.Revision()
	w.mu.Lock()
	defer w.mu.Unlock()
	if rv <= w.lastRV {
		w.anomalies = append(w.anomalies, fmt.Sprintf("watch on %s: %s %s at revision %d after revision %d (repeated or out of order)",
			conn.member, ev.Type, ev.Meta.Name, rv, w.lastRV))
	} else {
		w.lastRV = rv
	}
	if ev.Meta.Name == rootCAConfigMap {
		return nil
	}
	w.events = append(w.events, watchedEvent{typ: ev.Type, name: ev.Meta.Name, rv: rv})
	conn.events++
	conn.lastEvent = time.Now()
	return nil
}

func (w *watcher) last() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastRV
}

func (w *watcher) note(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.anomalies = append(w.anomalies, fmt.Sprintf(format, args...))
}

// waitFor waits until the watch has seen revision rv.
func (w *watcher) waitFor(rv uint64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if w.last() >= rv {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Stop ends the watch and waits for it.
func (w *watcher) Stop() {
	w.cancel()
	<-w.done
}

// check compares the events with the expected creates (sorted by
// revision) after the watch's start revision up to the last revision it
// saw: the same objects at the same revisions, in order, nothing missing,
// nothing repeated.
func (w *watcher) check(all []stored) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	problems := append([]string(nil), w.anomalies...)
	var want []stored
	for _, s := range all {
		if s.rv > w.from && s.rv <= w.lastRV {
			want = append(want, s)
		}
	}
	i, j := 0, 0
	for i < len(want) || j < len(w.events) {
		switch {
		case j >= len(w.events) || i < len(want) && want[i].rv < w.events[j].rv:
			problems = append(problems, fmt.Sprintf("missed: %s at revision %d", want[i].name, want[i].rv))
			i++
		case i >= len(want) || w.events[j].rv < want[i].rv:
			problems = append(problems, fmt.Sprintf("unexpected event: %s %s at revision %d", w.events[j].typ, w.events[j].name, w.events[j].rv))
			j++
		default:
			if e := w.events[j]; e.name != want[i].name || e.typ != "ADDED" {
				problems = append(problems, fmt.Sprintf("revision %d: event %s %s, want ADDED %s", e.rv, e.typ, e.name, want[i].name))
			}
			i++
			j++
		}
		if len(problems) > 20 {
			return append(problems, "...")
		}
	}
	return problems
}
