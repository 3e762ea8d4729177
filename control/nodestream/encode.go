package nodestream

import (
	"fmt"
	"sync"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Encoding once for every stream. A delta is the same bytes for every
// agent that gets it: a Resource is fixed by its kind, namespace, name,
// revision and whether it is a deletion (the object's JSON at that
// revision, or its node's route). encCache keeps each Resource's wire
// form (as field 5 of a ServerMessage) once per member, and a session
// sends an encodedMessage: its own few header bytes (kind, version,
// nonce, snapshot) followed by the shared resource bytes, which the
// codec hands to gRPC without copying or re-encoding. Protobuf parsers
// accept fields in any order, so the agent decodes an ordinary
// ServerMessage.

// resourcesField is ServerMessage.resources' field number.
const resourcesField = 5

type encKey struct {
	kind      pb.Kind
	namespace string
	name      string
	revision  uint64
	deleted   bool
}

type encCache struct {
	mu sync.Mutex
	m  map[encKey][]byte
}

// encCacheMax bounds the cache; it is dropped whole past it (sessions
// encode the same delta within moments of each other).
const encCacheMax = 16384

func newEncCache() *encCache { return &encCache{m: map[encKey][]byte{}} }

// resource is r's wire form as a ServerMessage field, shared: never
// modify it.
func (c *encCache) resource(k pb.Kind, r *pb.Resource) ([]byte, error) {
	key := encKey{k, r.Namespace, r.Name, r.Revision, r.Deleted}
	c.mu.Lock()
	b, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	body, err := proto.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s/%s: %w", k, r.Namespace, r.Name, err)
	}
	b = protowire.AppendTag(make([]byte, 0, len(body)+8), resourcesField, protowire.BytesType)
	b = protowire.AppendBytes(b, body)
	c.mu.Lock()
	if len(c.m) >= encCacheMax {
		clear(c.m)
	}
	c.m[key] = b
	c.mu.Unlock()
	return b, nil
}

// encodedMessage is a ServerMessage in wire form: the session's header
// and the shared resources.
type encodedMessage struct {
	parts [][]byte
}

// encode is m (whose Resources are res) for sending.
func (c *encCache) encode(m *pb.ServerMessage, res []*pb.Resource) (*encodedMessage, error) {
	head, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	e := &encodedMessage{parts: make([][]byte, 0, len(res)+1)}
	e.parts = append(e.parts, head)
	for _, r := range res {
		b, err := c.resource(m.Kind, r)
		if err != nil {
			return nil, err
		}
		e.parts = append(e.parts, b)
	}
	return e, nil
}

// codec is the server's gRPC codec: encodedMessages go out as they are,
// everything else through the standard proto codec.
type codec struct{ base encoding.CodecV2 }

func newCodec() codec { return codec{base: encoding.GetCodecV2("proto")} }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	e, ok := v.(*encodedMessage)
	if !ok {
		return c.base.Marshal(v)
	}
	out := make(mem.BufferSlice, 0, len(e.parts))
	for _, p := range e.parts {
		if len(p) > 0 {
			out = append(out, mem.SliceBuffer(p))
		}
	}
	return out, nil
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error { return c.base.Unmarshal(data, v) }

func (c codec) Name() string { return "proto" }
