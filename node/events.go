package node

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/weirnet/weir/node/runtime"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// maxQueuedEvents bounds the pod events waiting for the node stream;
// beyond it the oldest are dropped (as the kubelet's event broadcaster
// drops events it cannot deliver).
const maxQueuedEvents = 1000

// eventRetry is how long the sender waits before trying again while the
// node stream is down.
const eventRetry = time.Second

// podEvents forwards the runtime's pod events to the control plane in
// order through a bounded queue. It owns one goroutine (start, close).
type podEvents struct {
	send func(*pb.PodEvent) error // ErrNotConnected while the stream is down
	log  *slog.Logger

	mu        sync.Mutex
	queue     []*pb.PodEvent
	dropped   uint64    // dropped since the last warning
	lastWarn  time.Time // of a drop warning
	wake      chan struct{}
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func newPodEvents(send func(*pb.PodEvent) error, log *slog.Logger) *podEvents {
	return &podEvents{send: send, log: log, wake: make(chan struct{}, 1)}
}

// push is the runtime's Event callback: it never blocks.
func (q *podEvents) push(e runtime.PodEvent) {
	m := &pb.PodEvent{Namespace: e.Namespace, Name: e.Name, Uid: string(e.UID), Type: e.Type, Reason: e.Reason,
		Message: e.Message, Container: e.Container, UnixNano: e.Time.UnixNano()}
	q.mu.Lock()
	if len(q.queue) >= maxQueuedEvents {
		q.queue[0] = nil
		q.queue = q.queue[1:]
		q.dropped++
		if time.Since(q.lastWarn) >= 10*time.Second {
			q.log.Warn("pod events dropped: the queue for the control plane is full", "dropped", q.dropped, "queued", len(q.queue))
			q.dropped, q.lastWarn = 0, time.Now()
		}
	}
	q.queue = append(q.queue, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// start runs the sender until close.
func (q *podEvents) start() {
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		q.run(ctx)
	}()
}

// close stops the sender and waits for it; queued events are dropped.
// Idempotent.
func (q *podEvents) close() {
	q.closeOnce.Do(func() {
		if q.cancel != nil {
			q.cancel()
		}
		q.wg.Wait()
	})
}

// run sends the queue, oldest first, waking on each push; while the
// stream is down (or a send fails) it retries every eventRetry.
func (q *podEvents) run(ctx context.Context) {
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-retry:
		}
		retry = nil
		if err := q.flush(ctx); err != nil {
			if !errors.Is(err, ErrNotConnected) {
				q.log.Debug("pod event not sent; retrying", "error", err)
			}
			retry = time.After(eventRetry)
		}
	}
}

// flush sends queued events until the queue is empty or a send fails
// (that event stays first in the queue).
func (q *podEvents) flush(ctx context.Context) error {
	for ctx.Err() == nil {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.mu.Unlock()
			return nil
		}
		m := q.queue[0]
		q.mu.Unlock()
		if err := q.send(m); err != nil {
			return err
		}
		q.mu.Lock()
		if len(q.queue) > 0 && q.queue[0] == m { // not dropped meanwhile
			q.queue[0] = nil
			q.queue = q.queue[1:]
		}
		q.mu.Unlock()
	}
	return nil
}

// queued is how many events wait to be sent.
func (q *podEvents) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// openEvents starts the pod event sender (closed with the agent) and
// returns the runtime's Event callback.
func (a *Agent) openEvents() func(runtime.PodEvent) {
	q := newPodEvents(a.sendPodEvent, a.log)
	q.start()
	a.closers = append(a.closers, q.close)
	return q.push
}

// sendPodEvent sends one event on the current stream.
func (a *Agent) sendPodEvent(e *pb.PodEvent) error {
	a.mu.Lock()
	st := a.stream
	a.mu.Unlock()
	if st == nil {
		return ErrNotConnected
	}
	return st.send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodEvent{PodEvent: e}})
}
