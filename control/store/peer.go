package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The member-to-member service: followers forward writes, read-index
// requests and membership changes to the leader; the leader asks the
// others for their term to confirm a read index. Messages are small Go
// structs carried by gRPC with a JSON codec (no generated code needed); the
// connection is mutual TLS between member certificates (transport.go).

const peerService = "weir.store.v1.Peer"

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

type applyReq struct{ Cmd []byte }
type applyResp struct {
	Result []byte
	Err    string
}
type readIndexReq struct{}
type readIndexResp struct{ Index uint64 }
type termReq struct{}
type termResp struct{ Term uint64 }
type joinReq struct{ Name, PeerAddr, APIAddr string }
type joinResp struct {
	Index uint64
	Token string
}
type removeReq struct{ Name string }
type emptyResp struct{}

// peerHandlers is implemented by *Store; each handler runs on the leader or
// forwards there.
type peerHandlers interface {
	handleApply(ctx context.Context, r *applyReq) (*applyResp, error)
	handleReadIndex(ctx context.Context, r *readIndexReq) (*readIndexResp, error)
	handleTerm(ctx context.Context, r *termReq) (*termResp, error)
	handleJoin(ctx context.Context, r *joinReq) (*joinResp, error)
	handlePromote(ctx context.Context, r *joinReq) (*emptyResp, error)
	handleRemove(ctx context.Context, r *removeReq) (*emptyResp, error)
	handleSetEncryption(ctx context.Context, r *encryptionReq) (*emptyResp, error)
	handleRotate(ctx context.Context, r *rotateReq) (*RotateResult, error)
	handleSetToken(ctx context.Context, r *tokenReq) (*emptyResp, error)
	handleRotateToken(ctx context.Context, r *rotateTokenReq) (*TokenResult, error)
	handleOp(ctx context.Context, r *opReq) (*opResp, error)
	handleSetSecret(ctx context.Context, r *secretReq) (*emptyResp, error)
	handleRotateSecret(ctx context.Context, r *rotateSecretReq) (*SecretResult, error)
}

func unary[Req, Resp any](name string, call func(peerHandlers, context.Context, *Req) (*Resp, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			req := new(Req)
			if err := dec(req); err != nil {
				return nil, err
			}
			return call(srv.(peerHandlers), ctx, req)
		},
	}
}

var peerDesc = grpc.ServiceDesc{
	ServiceName: peerService,
	HandlerType: (*peerHandlers)(nil),
	Methods: []grpc.MethodDesc{
		unary("Apply", peerHandlers.handleApply),
		unary("ReadIndex", peerHandlers.handleReadIndex),
		unary("Term", peerHandlers.handleTerm),
		unary("Join", peerHandlers.handleJoin),
		unary("Promote", peerHandlers.handlePromote),
		unary("Remove", peerHandlers.handleRemove),
		unary("SetEncryption", peerHandlers.handleSetEncryption),
		unary("Rotate", peerHandlers.handleRotate),
		unary("SetToken", peerHandlers.handleSetToken),
		unary("RotateToken", peerHandlers.handleRotateToken),
		unary("Op", peerHandlers.handleOp),
		unary("SetSecret", peerHandlers.handleSetSecret),
		unary("RotateSecret", peerHandlers.handleRotateSecret),
	},
}

func newPeerServer(h peerHandlers) *grpc.Server {
	s := grpc.NewServer(grpc.ForceServerCodec(jsonCodec{}))
	s.RegisterService(&peerDesc, h)
	return s
}

// peerClients keeps one gRPC connection per peer address.
type peerClients struct {
	creds *peerCreds
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

func (p *peerClients) conn(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		timeout := 5 * time.Second
		if d, ok := ctx.Deadline(); ok {
			timeout = time.Until(d)
		}
		return dialPeer(a, p.creds, alpnGRPC, timeout)
	}
	c, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dial),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(jsonCodec{})))
	if err != nil {
		return nil, fmt.Errorf("peer client %s: %w", addr, err)
	}
	p.conns[addr] = c
	return c, nil
}

func (p *peerClients) call(ctx context.Context, addr, method string, req, resp any) error {
	c, err := p.conn(addr)
	if err != nil {
		return err
	}
	return c.Invoke(ctx, "/"+peerService+"/"+method, req, resp)
}

func (p *peerClients) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, c := range p.conns {
		c.Close()
		delete(p.conns, a)
	}
}

// Errors cross the wire as names so that sentinels survive forwarding.
var wireErrors = []error{ErrNotFound, ErrExists, ErrConflict, ErrGone, ErrFutureRevision, ErrNoLeader, ErrTooLarge, ErrClosed, errNotLeader}

func errToWire(err error) string {
	if err == nil {
		return ""
	}
	for _, e := range wireErrors {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return err.Error()
}

func errFromWire(s string) error {
	if s == "" {
		return nil
	}
	for _, e := range wireErrors {
		if e.Error() == s {
			return e
		}
	}
	return errors.New(s)
}
