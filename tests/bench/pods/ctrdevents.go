package pods

import (
	"context"
	"fmt"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"
)

// ctrdSample is when containerd created a container, created its task
// (shim + runc create) and started it, on containerd's clock (the same
// host clock as the client's).
type ctrdSample struct {
	Container, TaskCreate, TaskStart time.Time
}

// ctrdTimes follows containerd's event stream (every namespace) and keeps
// the first time of each event per container ID.
type ctrdTimes struct {
	mu     sync.Mutex
	byID   map[string]*ctrdSample
	client *containerd.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// followContainerd subscribes to sock's events until close.
func followContainerd(ctx context.Context, sock string) (*ctrdTimes, error) {
	client, err := containerd.New(sock)
	if err != nil {
		return nil, fmt.Errorf("connect to containerd %s: %w", sock, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	ct := &ctrdTimes{byID: map[string]*ctrdSample{}, client: client, cancel: cancel}
	evs, errs := client.Subscribe(ctx, `topic=="/containers/create"`, `topic=="/tasks/create"`, `topic=="/tasks/start"`)
	ct.wg.Go(func() {
		for {
			select {
			case env := <-evs:
				ct.record(env.Timestamp, env.Event)
			case <-errs:
				return
			case <-ctx.Done():
				return
			}
		}
	})
	return ct, nil
}

func (ct *ctrdTimes) record(at time.Time, ev typeurl.Any) {
	v, err := typeurl.UnmarshalAny(ev)
	if err != nil {
		return
	}
	var id string
	var field func(*ctrdSample) *time.Time
	switch e := v.(type) {
	case *apievents.ContainerCreate:
		id, field = e.ID, func(s *ctrdSample) *time.Time { return &s.Container }
	case *apievents.TaskCreate:
		id, field = e.ContainerID, func(s *ctrdSample) *time.Time { return &s.TaskCreate }
	case *apievents.TaskStart:
		id, field = e.ContainerID, func(s *ctrdSample) *time.Time { return &s.TaskStart }
	default:
		return
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	s := ct.byID[id]
	if s == nil {
		s = &ctrdSample{}
		ct.byID[id] = s
	}
	if t := field(s); t.IsZero() {
		*t = at
	}
}

// get is container id's times (zero when not seen).
func (ct *ctrdTimes) get(id string) ctrdSample {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if s := ct.byID[id]; s != nil {
		return *s
	}
	return ctrdSample{}
}

// close ends the subscription and waits for it.
func (ct *ctrdTimes) close() {
	ct.cancel()
	ct.wg.Wait()
	ct.client.Close()
}
