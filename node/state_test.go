package node

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

func TestStateApply(t *testing.T) {
	st := NewState()
	svc := func(name string) *pb.Resource {
		return &pb.Resource{Namespace: "default", Name: name, Json: []byte(`{"metadata":{"name":"` + name + `","namespace":"default"}}`)}
	}
	must := func(m *pb.ServerMessage) {
		t.Helper()
		if _, err := st.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	must(&pb.ServerMessage{Kind: pb.Kind_KIND_SERVICES, Version: 5, Snapshot: true, Resources: []*pb.Resource{svc("a"), svc("b")}})
	must(&pb.ServerMessage{Kind: pb.Kind_KIND_SERVICES, Version: 7, Resources: []*pb.Resource{{Namespace: "default", Name: "a", Deleted: true}, svc("c")}})
	if got := names(st.Services()); got != "b,c" || st.Versions[pb.Kind_KIND_SERVICES] != 7 {
		t.Errorf("services = %s at %d, want b,c at 7", got, st.Versions[pb.Kind_KIND_SERVICES])
	}
	// A message with one undecodable resource changes nothing.
	bad := &pb.ServerMessage{Kind: pb.Kind_KIND_SERVICES, Version: 9, Resources: []*pb.Resource{svc("d"), {Namespace: "default", Name: "e", Json: []byte("{")}}}
	if _, err := st.Apply(bad); err == nil || !strings.Contains(err.Error(), "default/e") {
		t.Errorf("bad message: %v, want an error naming default/e", err)
	}
	if got := names(st.Services()); got != "b,c" || st.Versions[pb.Kind_KIND_SERVICES] != 7 {
		t.Errorf("after a rejected message: %s at %d, want b,c at 7", got, st.Versions[pb.Kind_KIND_SERVICES])
	}
	// A snapshot replaces everything.
	must(&pb.ServerMessage{Kind: pb.Kind_KIND_SERVICES, Version: 20, Snapshot: true, Resources: []*pb.Resource{svc("z")}})
	if got := names(st.Services()); got != "z" {
		t.Errorf("after a snapshot: %s, want z", got)
	}
	// Routes are validated.
	for _, r := range []*pb.Route{{PodCidr: "10.244.1.1/24", NodeIp: "192.0.2.1"}, {PodCidr: "10.244.1.0/24", NodeIp: "2001:db8::1"}, nil} {
		if _, err := st.Apply(&pb.ServerMessage{Kind: pb.Kind_KIND_ROUTES, Resources: []*pb.Resource{{Name: "n", Route: r}}}); err == nil {
			t.Errorf("route %v accepted", r)
		}
	}
	must(&pb.ServerMessage{Kind: pb.Kind_KIND_ROUTES, Version: 3, Resources: []*pb.Resource{{Name: "n", Route: &pb.Route{Node: "n", PodCidr: "10.244.1.0/24", NodeIp: "192.0.2.1"}}}})
	if r := st.Routes(); len(r) != 1 || r[0].PodCIDR.String() != "10.244.1.0/24" || r[0].NodeIP.String() != "192.0.2.1" {
		t.Errorf("routes = %v", r)
	}
	if _, err := st.Apply(&pb.ServerMessage{Kind: 99}); err == nil {
		t.Error("unknown kind accepted")
	}
}

func names(objs []corev1.Service) string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Name)
	}
	return strings.Join(out, ",")
}

func FuzzStateApply(f *testing.F) {
	f.Add(int32(1), []byte(`{"metadata":{"name":"a"},"spec":{"clusterIP":"10.96.0.1","ports":[{"port":80}]}}`), "10.244.1.0/24", "192.0.2.1", false)
	f.Add(int32(2), []byte(`{"endpoints":[{"addresses":["10.244.1.5"]}],"ports":[{"port":8080}]}`), "", "", true)
	f.Add(int32(3), []byte(`{"spec":{"nodeName":"n"}}`), "::/0", "x", false)
	f.Add(int32(4), []byte(`null`), "10.244.1.0/24", "192.0.2.1", false)
	f.Fuzz(func(t *testing.T, kind int32, js []byte, cidr, ip string, snapshot bool) {
		st := NewState()
		m := &pb.ServerMessage{Kind: pb.Kind(kind), Version: 1, Snapshot: snapshot,
			Resources: []*pb.Resource{{Namespace: "ns", Name: "x", Json: js, Route: &pb.Route{PodCidr: cidr, NodeIp: ip}}}}
		if _, err := st.Apply(m); err != nil {
			if st.Versions[pb.Kind(kind)] != 0 {
				t.Fatal("a rejected message moved the version")
			}
			return
		}
		// What applied must convert without panicking.
		(&Reconciler{Dataplane: nopDataplane{}, Routes: nopRoutes{}}).Apply(t.Context(), st, Change{})
	})
}
