package push

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/node"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// fleet is N in-process agents and the ACK bookkeeping: the time at which
// the last of them ACKed an EndpointSlice version >= target.
type fleet struct {
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	conns   []*grpc.ClientConn
	mu      sync.Mutex
	latest  []uint64    // per agent: last ACKed EndpointSlice version
	ackedAt []time.Time // per agent: when it ACKed latest
	errs    []error
	retries int // sessions that ended and were reopened
	target  uint64
	count   int
	first   time.Time // first ACK at the target
	last    time.Time
	done    chan time.Time
}

// connect starts n agents, agent i on member i%3, and waits until each
// ACKed its EndpointSlice snapshot.
func connect(ctx context.Context, cp *controlPlane, n int, heartbeat time.Duration) (*fleet, error) {
	rctx, cancel := context.WithCancel(context.Background())
	f := &fleet{cancel: cancel, latest: make([]uint64, n), ackedAt: make([]time.Time, n), done: make(chan time.Time, 1)}
	keyPEM, err := os.ReadFile(filepath.Join(cp.members[0].dir, "ca.key"))
	if err != nil {
		cancel()
		return nil, err
	}
	ca, err := nodestream.ParseCA(cp.caPEM, keyPEM)
	if err != nil {
		cancel()
		return nil, err
	}
	for i := 0; i < n; i++ {
		m := cp.members[i%len(cp.members)]
		// Each simulated agent has its node's certificate (as bootstrapping
		// would give it), signed here with the CA from the member's data dir.
		cert, err := ca.NodeClientCert(fmt.Sprintf("bench-node-%03d", i), 24*time.Hour)
		if err != nil {
			f.Close()
			return nil, err
		}
		client, conn, err := nodestream.Dial(nodestream.DialConfig{Addr: m.nodes, CAPEM: cp.caPEM,
			Certificate: func() (*tls.Certificate, error) { return cert, nil }})
		if err != nil {
			f.Close()
			return nil, err
		}
		f.conns = append(f.conns, conn)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.loop(rctx, i, client, heartbeat)
		}()
	}
	wait := 60*time.Second + time.Duration(n)*50*time.Millisecond
	deadline := time.Now().Add(wait)
	for !f.allSynced() {
		if err := f.err(); err != nil {
			f.Close()
			return nil, err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			f.Close()
			return nil, fmt.Errorf("push: %d agents did not all receive their snapshot within %v", n, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return f, nil
}

// loop runs agent i's sessions until ctx ends, reconnecting like the real
// agent (a Watch on a member that has not yet applied the Register is
// refused; the agent retries). Interruptions are counted.
func (f *fleet) loop(ctx context.Context, i int, client pb.NodeStreamClient, heartbeat time.Duration) {
	st := node.NewState()
	for tries := 0; ctx.Err() == nil; tries++ {
		err := f.run(ctx, i, client, heartbeat, st)
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		f.retries++
		if tries == 50 {
			f.errs = append(f.errs, fmt.Errorf("agent %d: %w", i, err))
		}
		f.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// run is one session: register, subscribe, decode and ACK every message.
func (f *fleet) run(ctx context.Context, i int, client pb.NodeStreamClient, heartbeat time.Duration, st *node.State) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	name := fmt.Sprintf("bench-node-%03d", i)
	if _, err := client.Register(ctx, &pb.RegisterRequest{NodeName: name, Addresses: []string{fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)},
		Capacity: map[string]string{"cpu": "2", "pods": "110"}, KernelVersion: "bench"}); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	ws, err := client.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	var sendMu sync.Mutex
	send := func(m *pb.AgentMessage) error { sendMu.Lock(); defer sendMu.Unlock(); return ws.Send(m) }
	versions := map[int32]uint64{}
	for k, v := range st.Versions {
		versions[int32(k)] = v
	}
	if err := send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: name, Versions: versions}}}); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if send(&pb.AgentMessage{Msg: &pb.AgentMessage_Heartbeat{Heartbeat: &pb.Heartbeat{UnixNano: now.UnixNano()}}}) != nil {
					return
				}
			}
		}
	}()
	for {
		m, err := ws.Recv()
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		ack := &pb.Ack{Kind: m.Kind, Version: m.Version, Nonce: m.Nonce}
		if _, err := st.Apply(m); err != nil {
			ack.Error = err.Error()
		}
		if err := send(&pb.AgentMessage{Msg: &pb.AgentMessage_Ack{Ack: ack}}); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
		if m.Kind == pb.Kind_KIND_ENDPOINTSLICES && ack.Error == "" {
			f.acked(i, m.Version, time.Now())
		}
	}
}

func (f *fleet) acked(i int, version uint64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	crossed := f.latest[i] < f.target && version >= f.target
	f.latest[i], f.ackedAt[i] = version, at
	if f.target > 0 && crossed {
		f.reached(at)
	}
}

// reached counts one more agent at the target; mu held.
func (f *fleet) reached(at time.Time) {
	f.count++
	if f.first.IsZero() || at.Before(f.first) {
		f.first = at
	}
	if at.After(f.last) {
		f.last = at
	}
	if f.count == len(f.latest) {
		select {
		case f.done <- f.last:
		default:
		}
	}
}

// waitAll returns when every agent ACKed a version >= rev: the times of
// the first and the last ACK. No other EndpointSlice write may happen meanwhile, so an agent
// already at >= rev ACKed it with its latest ACK.
func (f *fleet) waitAll(rev uint64, timeout time.Duration) (first, last time.Time, err error) {
	f.mu.Lock()
	select { // a late completion of a target that timed out
	case <-f.done:
	default:
	}
	f.target, f.count, f.first, f.last = rev, 0, time.Time{}, time.Time{}
	for i, v := range f.latest {
		if v >= rev {
			f.reached(f.ackedAt[i])
		}
	}
	f.mu.Unlock()
	select {
	case at := <-f.done:
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.first, at, nil
	case <-time.After(timeout):
		f.mu.Lock()
		defer f.mu.Unlock()
		return time.Time{}, time.Time{}, fmt.Errorf("push: only %d of %d agents ACKed version %d within %v (%v)", f.count, len(f.latest), rev, timeout, f.errs)
	}
}

func (f *fleet) allSynced() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.latest {
		if v == 0 {
			return false
		}
	}
	return true
}

func (f *fleet) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		return f.errs[0]
	}
	return nil
}

// Close ends every stream and waits for the agents.
func (f *fleet) Close() {
	f.cancel()
	for _, c := range f.conns {
		c.Close()
	}
	f.wg.Wait()
}
