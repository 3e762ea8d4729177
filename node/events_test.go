package node

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/node/runtime"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// eventSink is a node stream that is up or down.
type eventSink struct {
	mu   sync.Mutex
	up   bool
	got  []string
	fail int // sends to fail with an error other than not connected
}

func (s *eventSink) send(e *pb.PodEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.up:
		return ErrNotConnected
	case s.fail > 0:
		s.fail--
		return io.ErrClosedPipe
	}
	s.got = append(s.got, e.Message)
	return nil
}

func (s *eventSink) set(up bool, fail int) {
	s.mu.Lock()
	s.up, s.fail = up, fail
	s.mu.Unlock()
}

func (s *eventSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// TestPodEventsQueue: events go out in order; while the stream is down
// they wait, the oldest dropped beyond maxQueuedEvents, and are sent once
// it is up (a failed send is retried).
func TestPodEventsQueue(t *testing.T) {
	sink := &eventSink{up: true}
	q := newPodEvents(sink.send, slog.New(slog.NewTextHandler(io.Discard, nil)))
	q.start()
	defer q.close()
	ev := func(i int) runtime.PodEvent {
		return runtime.PodEvent{Namespace: "default", Name: "p", UID: "u", Type: "Normal", Reason: "Started", Message: fmt.Sprint(i), Time: time.Now()}
	}
	q.push(ev(0))
	q.push(ev(1))
	waitUntil(t, "two events sent", func() bool { return len(sink.messages()) == 2 })

	sink.set(false, 0)
	for i := range maxQueuedEvents + 5 {
		q.push(ev(100 + i))
	}
	if n := q.queued(); n != maxQueuedEvents {
		t.Fatalf("queued %d while disconnected, want the bound %d", n, maxQueuedEvents)
	}
	sink.set(true, 2)
	waitUntil(t, "the queue sent after reconnect", func() bool { return len(sink.messages()) == 2+maxQueuedEvents })
	got := sink.messages()
	if got[0] != "0" || got[1] != "1" || got[2] != "105" || got[len(got)-1] != fmt.Sprint(100+maxQueuedEvents+4) {
		t.Fatalf("sent %v ... %v: want 0 1 then 105 (the 5 oldest dropped) ... %d in order", got[:4], got[len(got)-1], 100+maxQueuedEvents+4)
	}
	for i := 3; i < len(got); i++ {
		if got[i-1] >= got[i] && len(got[i-1]) == len(got[i]) {
			t.Fatalf("out of order at %d: %s then %s", i, got[i-1], got[i])
		}
	}
	q.close()
	q.close()     // idempotent
	q.push(ev(9)) // after close: queued, never blocks
}
