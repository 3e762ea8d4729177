package nodestream

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// TestEncodeOnce: two streams sending the same delta share the
// resource's wire bytes (encoded once), each with its own header, and
// what goes on the wire decodes to the ServerMessage it stands for.
func TestEncodeOnce(t *testing.T) {
	c, cd := newEncCache(), newCodec()
	res := []*pb.Resource{
		{Namespace: "default", Name: "web", Revision: 12, Json: []byte(`{"kind":"Service"}`)},
		{Namespace: "default", Name: "old", Revision: 12, Deleted: true},
	}
	wire := func(nonce string) (*encodedMessage, []byte) {
		m, err := c.encode(&pb.ServerMessage{Kind: pb.Kind_KIND_SERVICES, Version: 12, Nonce: nonce}, res)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := cd.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return m, bs.Materialize()
	}
	m1, b1 := wire("a-1")
	m2, b2 := wire("b-7")
	for i := 1; i < len(m1.parts); i++ {
		if &m1.parts[i][0] != &m2.parts[i][0] {
			t.Errorf("resource %d encoded twice, want one shared encoding", i-1)
		}
	}
	for _, c := range []struct {
		b     []byte
		nonce string
	}{{b1, "a-1"}, {b2, "b-7"}} {
		var got pb.ServerMessage
		if err := proto.Unmarshal(c.b, &got); err != nil {
			t.Fatal(err)
		}
		want := &pb.ServerMessage{Kind: pb.Kind_KIND_SERVICES, Version: 12, Nonce: c.nonce, Resources: res}
		if !proto.Equal(&got, want) {
			t.Errorf("decoded %v, want %v", &got, want)
		}
	}
}
