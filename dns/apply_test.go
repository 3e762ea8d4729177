package dns

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// dump renders an index as stable text: every name with its records, and
// empty non-terminals marked as such.
func dump(ix *index) string {
	var lines []string
	for _, sh := range ix.shards {
		for name, n := range sh {
			if len(n.rrs) == 0 {
				lines = append(lines, name+" (empty non-terminal)")
			}
			for _, rr := range n.rrs {
				lines = append(lines, strings.Join(strings.Fields(rr.String()), " "))
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

func TestGoldenIndex(t *testing.T) {
	s, err := NewServer(Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	got := dump(s.idx.Load())
	path := filepath.Join("testdata", "cluster.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dns -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("index differs from %s (rerun with -update after checking):\n%s", path, got)
	}
}

// world is the truth a sequence of deltas leads to.
type world struct {
	svcs   map[types.NamespacedName]corev1.Service
	slices map[types.NamespacedName]discoveryv1.EndpointSlice
	pods   map[types.NamespacedName]corev1.Pod
}

func (w world) snapshot() ([]corev1.Service, []discoveryv1.EndpointSlice, []corev1.Pod) {
	var a []corev1.Service
	var b []discoveryv1.EndpointSlice
	var c []corev1.Pod
	for _, v := range w.svcs {
		a = append(a, v)
	}
	for _, v := range w.slices {
		b = append(b, v)
	}
	for _, v := range w.pods {
		c = append(c, v)
	}
	return a, b, c
}

// randomDelta changes a few random objects of a small cluster in which
// names collide often (same services, slices, pods, IPs, subdomains).
func randomDelta(r *rand.Rand, w world) Delta {
	var d Delta
	nss := []string{"a", "b"}
	for range 1 + r.IntN(4) {
		ns := nss[r.IntN(2)]
		svc := fmt.Sprintf("s%d", r.IntN(5))
		switch r.IntN(6) {
		case 0:
			d.DeletedServices = append(d.DeletedServices, types.NamespacedName{Namespace: ns, Name: svc})
		case 1:
			d.Services = append(d.Services, randomService(r, ns, svc))
		case 2:
			d.DeletedEndpointSlices = append(d.DeletedEndpointSlices, types.NamespacedName{Namespace: ns, Name: fmt.Sprintf("e%d", r.IntN(6))})
		case 3:
			d.EndpointSlices = append(d.EndpointSlices, randomSlice(r, ns, fmt.Sprintf("e%d", r.IntN(6)), svc))
		case 4:
			d.DeletedPods = append(d.DeletedPods, types.NamespacedName{Namespace: ns, Name: fmt.Sprintf("p%d", r.IntN(6))})
		default:
			d.Pods = append(d.Pods, randomPod(r, ns, fmt.Sprintf("p%d", r.IntN(6)), svc))
		}
	}
	return d
}

func randomIP(r *rand.Rand) string { return fmt.Sprintf("10.0.%d.%d", r.IntN(2), r.IntN(4)+1) }

func randomService(r *rand.Rand, ns, name string) corev1.Service {
	ports := []corev1.ServicePort{svcPort("http", corev1.ProtocolTCP, 80)}
	switch r.IntN(3) {
	case 0:
		return clusterIPSvc(ns, name, []string{fmt.Sprintf("10.96.0.%d", r.IntN(4)+1)}, ports...)
	case 1:
		return headlessSvc(ns, name, r.IntN(2) == 0, ports...)
	}
	return externalSvc(ns, name, fmt.Sprintf("s%d.%s.svc.cluster.local", r.IntN(5), ns))
}

func randomSlice(r *rand.Rand, ns, name, svc string) discoveryv1.EndpointSlice {
	var eps []ep
	for range r.IntN(3) {
		host := ""
		if r.IntN(2) == 0 {
			host = fmt.Sprintf("h%d", r.IntN(3))
		}
		eps = append(eps, ep{randomIP(r), host, r.IntN(3) > 0})
	}
	return epSlice(ns, name, svc, discoveryv1.AddressTypeIPv4,
		[]discoveryv1.EndpointPort{slicePort("http", corev1.ProtocolTCP, 8080)}, eps...)
}

func randomPod(r *rand.Rand, ns, name, svc string) corev1.Pod {
	p := testPod(ns, name, randomIP(r), r.IntN(3) > 0)
	if r.IntN(2) == 0 {
		p.Spec.Hostname, p.Spec.Subdomain = name, svc
	}
	p.Spec.HostNetwork = r.IntN(5) == 0
	return p
}

func (w world) apply(d Delta) {
	for _, n := range d.DeletedServices {
		delete(w.svcs, n)
	}
	for _, n := range d.DeletedEndpointSlices {
		delete(w.slices, n)
	}
	for _, n := range d.DeletedPods {
		delete(w.pods, n)
	}
	for _, o := range d.Services {
		w.svcs[types.NamespacedName{Namespace: o.Namespace, Name: o.Name}] = o
	}
	for _, o := range d.EndpointSlices {
		w.slices[types.NamespacedName{Namespace: o.Namespace, Name: o.Name}] = o
	}
	for _, o := range d.Pods {
		w.pods[types.NamespacedName{Namespace: o.Namespace, Name: o.Name}] = o
	}
}

// TestApplyMatchesFullUpdate checks that any sequence of incremental
// deltas leaves exactly the index a full snapshot of the result builds.
func TestApplyMatchesFullUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	inc, _ := NewServer(Config{Logger: quietLogger()})
	full, _ := NewServer(Config{Logger: quietLogger()})
	w := world{map[types.NamespacedName]corev1.Service{}, map[types.NamespacedName]discoveryv1.EndpointSlice{}, map[types.NamespacedName]corev1.Pod{}}
	inc.Update(nil, nil, nil)
	for step := range 2000 {
		d := randomDelta(r, w)
		w.apply(d)
		if err := inc.Apply(d); err != nil {
			t.Fatal(err)
		}
		full.Update(w.snapshot())
		if a, b := dump(inc.idx.Load()), dump(full.idx.Load()); a != b {
			t.Fatalf("step %d: incremental index differs from a full rebuild\nincremental:\n%s\nfull:\n%s", step, a, b)
		}
		if inc.Records() != full.Records() {
			t.Fatalf("step %d: %d records, full rebuild has %d", step, inc.Records(), full.Records())
		}
	}
}

func TestApplyVisibleImmediately(t *testing.T) {
	s, addr := startServer(t, Config{})
	f := testCluster()
	s.Update(f.services, f.slices, f.pods)
	name := "ext.default.svc.cluster.local."
	for i, target := range []string{"one.example.", "two.example.", "three.example."} {
		if err := s.Apply(Delta{Services: []corev1.Service{externalSvc("default", "ext", target)}}); err != nil {
			t.Fatal(err)
		}
		r := ask(t, addr, "udp", name, mdns.TypeCNAME)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.CNAME).Target != target {
			t.Fatalf("update %d: got %v, want CNAME %s", i, r.Answer, target)
		}
	}
	if err := s.Apply(Delta{DeletedServices: []types.NamespacedName{{Namespace: "default", Name: "ext"}}}); err != nil {
		t.Fatal(err)
	}
	if r := ask(t, addr, "udp", name, mdns.TypeCNAME); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("after delete: %s", r)
	}
}
