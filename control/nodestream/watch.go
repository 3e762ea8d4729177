package nodestream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// maxBatch bounds the events of one delta message.
const maxBatch = 1000

// session is one agent's Watch stream.
type session struct {
	s      *Server
	node   string
	stream pb.NodeStream_WatchServer
	prefix string // nonce prefix, random per stream

	sendMu sync.Mutex
	seq    uint64

	mu     sync.Mutex
	sent   map[pb.Kind]string // kind -> last nonce sent
	acked  map[pb.Kind]uint64 // kind -> last good version
	nacked map[pb.Kind]bool

	events eventLimiter // pod events written; used by recvLoop only
	lease  nodeLease    // the node's Lease; used by recvLoop only
}

// Watch serves one agent: a Subscribe first, then per kind a snapshot or
// the deltas after the agent's version, while ACKs, heartbeats and pod
// status reports flow the other way.
func (s *Server) Watch(stream pb.NodeStream_WatchServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	sub := first.GetSubscribe()
	if sub == nil {
		return status.Error(codes.InvalidArgument, "the first message of Watch must be a Subscribe")
	}
	if id := identityFrom(stream.Context()); id.node != sub.NodeName {
		return s.refuse(stream.Context(), "subscribe", fmt.Sprintf("it asked for the state of node %q", sub.NodeName))
	}
	o, err := s.cfg.Store.Get(stream.Context(), nodeKey(sub.NodeName), store.ReadOptions{Stale: true})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return status.Errorf(codes.FailedPrecondition, "node %q is not registered: call Register first", sub.NodeName)
		}
		return status.Errorf(codes.Unavailable, "read node %s: %v", sub.NodeName, err)
	}
	var meta struct {
		Metadata struct {
			UID types.UID `json:"uid"`
		} `json:"metadata"`
	}
	json.Unmarshal(o.Value, &meta)
	b := make([]byte, 6)
	rand.Read(b)
	ses := &session{s: s, node: sub.NodeName, stream: stream, prefix: hex.EncodeToString(b),
		sent: map[pb.Kind]string{}, acked: map[pb.Kind]uint64{}, nacked: map[pb.Kind]bool{},
		lease: nodeLease{nodeUID: meta.Metadata.UID}}
	s.met.connected.Inc()
	defer s.met.connected.Dec()
	s.log.Debug("agent connected", "node", ses.node, "versions", sub.Versions)
	return ses.run(stream.Context(), sub.Versions)
}

func (ses *session) run(ctx context.Context, versions map[int32]uint64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		errc <- ses.runKinds(ctx, versions)
	}()
	go func() {
		defer wg.Done()
		errc <- ses.recvLoop(ctx)
	}()
	err := <-errc
	cancel()
	wg.Wait()
	if ctx.Err() != nil && status.Code(err) == codes.Canceled {
		return nil
	}
	return err
}

// send sends one message of kind k (safe for the kind goroutines).
func (ses *session) send(k pb.Kind, version uint64, snapshot bool, res []*pb.Resource) error {
	ses.sendMu.Lock()
	defer ses.sendMu.Unlock()
	ses.seq++
	nonce := ses.prefix + "-" + itoa(ses.seq)
	ses.mu.Lock()
	ses.sent[k] = nonce
	ses.mu.Unlock()
	msg, err := ses.s.enc.encode(&pb.ServerMessage{Kind: k, Version: version, Nonce: nonce, Snapshot: snapshot}, res)
	if err != nil {
		return err
	}
	err = ses.stream.SendMsg(msg)
	if err == nil {
		ses.s.met.sent.WithLabelValues(k.String()).Inc()
	}
	return err
}

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		if v /= 10; v == 0 {
			return string(b[i:])
		}
	}
}

func (ses *session) recvLoop(ctx context.Context) error {
	ses.alive(ctx, time.Now()) // a new stream renews the lease at once
	for {
		m, err := ses.stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch x := m.Msg.(type) {
		case *pb.AgentMessage_Ack:
			ses.handleAck(ctx, x.Ack)
		case *pb.AgentMessage_Heartbeat:
			ses.handleHeartbeat(ctx)
		case *pb.AgentMessage_PodStatus:
			if err := ses.handlePodStatus(ctx, x.PodStatus); err != nil {
				return err
			}
		case *pb.AgentMessage_MirrorPod:
			ses.handleMirrorPod(ctx, x.MirrorPod)
		case *pb.AgentMessage_PodEvent:
			if err := ses.handlePodEvent(ctx, x.PodEvent); err != nil {
				return err
			}
		default:
			return status.Error(codes.InvalidArgument, "unexpected message: Subscribe only once, then Ack, Heartbeat or PodStatus")
		}
	}
}

// handlePodStatus applies a pod report; a stale one (the pod is gone or
// is another pod now) is normal and logged at debug only. A report about
// a pod bound to another node is a forgery: refused, logged, and the end
// of the stream (PermissionDenied).
func (ses *session) handlePodStatus(ctx context.Context, ps *pb.PodStatus) error {
	err := ses.s.writePodStatus(ctx, ses.node, ps)
	switch {
	case errors.Is(err, errNotBound):
		return ses.s.refuse(ctx, "pod status", fmt.Sprintf("pod %s/%s: %v", ps.Namespace, ps.Name, err))
	case err == nil:
		if ps.Removed {
			ses.s.log.Debug("terminated pod removed", "node", ses.node, "pod", ps.Namespace+"/"+ps.Name, "uid", ps.Uid)
		}
	case errors.Is(err, errStaleReport):
		ses.s.log.Debug("pod report dropped", "node", ses.node, "pod", ps.Namespace+"/"+ps.Name, "uid", ps.Uid, "removed", ps.Removed, "why", err)
	default:
		ses.s.log.Warn("pod status report", "node", ses.node, "pod", ps.Namespace+"/"+ps.Name, "error", err)
	}
	return nil
}
