package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// agentStream is one open Watch; Send is serialised.
type agentStream struct {
	mu sync.Mutex
	s  grpc.BidiStreamingClient[pb.AgentMessage, pb.ServerMessage]
}

func (s *agentStream) send(m *pb.AgentMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.Send(m)
}

// session registers, opens the Watch and applies messages until the
// stream fails or ctx ends.
func (a *Agent) session(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := a.client.Register(ctx, a.registerRequest())
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	a.setServingCert(resp)
	if err := WriteCNIConf(a.cfg.CNIConfDir, a.cniConf(resp.PodCidr)); err != nil {
		return err
	}
	if err := a.setUpMasquerade(ctx, resp.ClusterCidr, resp.PodCidr); err != nil {
		return err
	}
	if a.dns != nil {
		if err := a.dns.start(resp.ClusterCidr, resp.PodCidr); err != nil {
			a.log.Error("cluster DNS not serving; retrying on the next connection", "error", err)
		}
	}
	a.mu.Lock()
	a.podCIDR = resp.PodCidr
	versions := map[int32]uint64{}
	for k, v := range a.state.Versions {
		versions[int32(k)] = v
	}
	a.mu.Unlock()
	ws, err := a.client.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	st := &agentStream{s: ws}
	if err := st.send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: a.cfg.NodeName, Versions: versions}}}); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	a.log.Info("node stream connected", "server", a.cfg.Server, "podCIDR", resp.PodCidr, "versions", versions)
	a.setStream(st)
	defer a.setStream(nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.heartbeats(ctx, st)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.reports.sendPodStatuses(ctx, a.sendPodReport); err != nil {
			a.log.Warn("pod status reports stopped until the next connection", "error", err)
		}
	}()
	return a.receive(ctx, st)
}

func (a *Agent) setStream(st *agentStream) {
	a.mu.Lock()
	a.stream = st
	a.mu.Unlock()
}

// receive applies each message and ACKs or NACKs it.
func (a *Agent) receive(ctx context.Context, st *agentStream) error {
	for {
		m, err := st.s.Recv()
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		ack := &pb.Ack{Kind: m.Kind, Version: m.Version, Nonce: m.Nonce}
		if err := a.apply(ctx, m); err != nil {
			ack.Error = err.Error()
			a.log.Warn("update rejected", "kind", m.Kind, "version", m.Version, "error", err)
		}
		if err := st.send(&pb.AgentMessage{Msg: &pb.AgentMessage_Ack{Ack: ack}}); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
	}
}

// apply updates the state (atomically; a message that does not decode
// leaves it unchanged) and programs what the message changed. The
// dataplane is synced only once both services and endpoint slices are
// known, so that a restarted agent never empties adopted maps with a
// partial view.
func (a *Agent) apply(ctx context.Context, m *pb.ServerMessage) error {
	kind := m.Kind
	lb := kind == pb.Kind_KIND_SERVICES || kind == pb.Kind_KIND_ENDPOINTSLICES
	a.mu.Lock()
	c, err := a.state.Apply(m)
	held := map[pb.Kind]uint64{kind: a.state.Versions[kind]}
	if lb { // the load balancer is programmed from both kinds at once
		held[pb.Kind_KIND_SERVICES] = a.state.Versions[pb.Kind_KIND_SERVICES]
		held[pb.Kind_KIND_ENDPOINTSLICES] = a.state.Versions[pb.Kind_KIND_ENDPOINTSLICES]
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if kind == pb.Kind_KIND_PODS {
		a.syncPods()
	}
	if lb && (held[pb.Kind_KIND_SERVICES] == 0 || held[pb.Kind_KIND_ENDPOINTSLICES] == 0) {
		return nil
	}
	if err := a.rec.Apply(ctx, a.state, c); err != nil {
		return err
	}
	a.mu.Lock()
	if a.applied == nil {
		a.applied = map[pb.Kind]uint64{}
	}
	for k, v := range held {
		a.applied[k] = v
	}
	a.mu.Unlock()
	return nil
}

func (a *Agent) heartbeats(ctx context.Context, st *agentStream) {
	t := time.NewTicker(a.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := st.send(&pb.AgentMessage{Msg: &pb.AgentMessage_Heartbeat{Heartbeat: &pb.Heartbeat{UnixNano: now.UnixNano()}}}); err != nil {
				return
			}
		}
	}
}

// ErrNotConnected: the node stream is down; report again later.
var ErrNotConnected = errors.New("agent: node stream not connected")

func (a *Agent) registerRequest() *pb.RegisterRequest {
	var u unix.Utsname
	unix.Uname(&u)
	return &pb.RegisterRequest{
		NodeName: a.cfg.NodeName, Addresses: a.cfg.Addresses, KernelVersion: unix.ByteSliceToString(u.Release[:]),
		Capacity: map[string]string{"cpu": fmt.Sprint(runtime.NumCPU()), "pods": "110", "memory": memTotal()},
		ApiPort:  a.nodeAPIPort(),
	}
}

// memTotal is MemTotal from /proc/meminfo as a quantity ("0" if unknown).
func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "0"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			return f[1] + "Ki"
		}
	}
	return "0"
}

// nodeCapacity is the node's cpu and memory as it registers them: what
// resourceFieldRef gives for an unset limit.
func nodeCapacity() corev1.ResourceList {
	mem, _ := resource.ParseQuantity(memTotal())
	return corev1.ResourceList{corev1.ResourceCPU: *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: mem}
}
