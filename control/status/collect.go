package status

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
)

var (
	gvrNodes    = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	gvrPods     = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrServices = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrSlices   = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

// The cluster DNS endpoints (kept by the DNS endpoints controller).
const (
	dnsNamespace = "kube-system"
	dnsSlice     = "kube-dns-nodes"
)

// Collect reads the cluster's state through c. Members' readiness comes
// from the serving member, which GETs each member's /readyz (it reaches
// its peers where this client may not, as in `weir up`'s underlay). With
// probe set, and for loopback members, this client also probes each
// member's API address itself.
func Collect(ctx context.Context, c *client.Client, probe bool) (*Report, error) {
	tc := c.TLSConfig()
	if tc != nil {
		tc.ServerName = "" // each member by its own address
	}
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	r := &Report{Server: c.Server()}
	ms, err := c.ProbeMembers(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (is the API at %s up? `weir members` needs the same)", err, c.Server())
	}
	for _, m := range ms {
		h := Health{Mark: Unknown, Text: "not probed (--probe-members GETs each member's /readyz)"}
		switch {
		case m.APIAddr == "" || probe || isLoopback(m.APIAddr):
			h = probeMember(ctx, hc, m.APIAddr)
		case m.Ready != nil && *m.Ready:
			h = Health{Mark: OK, Text: "ready (seen from the serving member)"}
		case m.Ready != nil:
			h = Health{Mark: Problem, Text: m.ProbeError + " (seen from the serving member)"}
		}
		r.Members = append(r.Members, Member{Member: m, Health: h})
	}
	var nodes []corev1.Node
	if err := list(ctx, c, gvrNodes, "", &nodes); err != nil {
		return nil, err
	}
	var pods []corev1.Pod
	if err := list(ctx, c, gvrPods, "", &pods); err != nil {
		return nil, err
	}
	var svcs []corev1.Service
	if err := list(ctx, c, gvrServices, "", &svcs); err != nil {
		return nil, err
	}
	r.Services = len(svcs)
	r.Nodes = nodeRows(nodes, pods)
	r.Pods = podSummary(pods)
	r.DNS, err = dnsHealth(ctx, c)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// probeMember GETs https://APIADDR/readyz (members serve HTTPS only).
func probeMember(ctx context.Context, hc *http.Client, addr string) Health {
	if addr == "" {
		return Health{Mark: Unknown, Text: "no API address recorded"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/readyz", nil)
	if err != nil {
		return Health{Mark: Unknown, Text: err.Error()}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Health{Mark: Problem, Text: fmt.Sprintf("not answering: %v", err)}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Health{Mark: Problem, Text: fmt.Sprintf("/readyz answers %d", resp.StatusCode)}
	}
	return Health{Mark: OK, Text: "ready"}
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// list reads every object of gvr into out (a pointer to a slice of typed
// objects).
func list[T any](ctx context.Context, c *client.Client, gvr schema.GroupVersionResource, ns string, out *[]T) error {
	l, err := c.List(ctx, gvr, ns, client.ListOptions{})
	if err != nil {
		return fmt.Errorf("list %s: %w", gvr.Resource, err)
	}
	for _, item := range l.Items {
		var v T
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &v); err != nil {
			return fmt.Errorf("decode %s %s: %w", gvr.Resource, item.GetName(), err)
		}
		*out = append(*out, v)
	}
	return nil
}

// dnsHealth counts the ready endpoints of the cluster DNS slice.
func dnsHealth(ctx context.Context, c *client.Client) (Health, error) {
	obj, err := c.Get(ctx, gvrSlices, dnsNamespace, dnsSlice)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return Health{Mark: Problem, Text: dnsNamespace + "/" + dnsSlice + " does not exist (no DNS endpoints yet)"}, nil
		}
		return Health{}, fmt.Errorf("read the DNS endpoints: %w", err)
	}
	var s discoveryv1.EndpointSlice
	if err := fromUnstructured(obj, &s); err != nil {
		return Health{}, err
	}
	ready := 0
	for _, e := range s.Endpoints {
		if e.Conditions.Ready != nil && *e.Conditions.Ready {
			ready++
		}
	}
	h := Health{Mark: OK, Text: fmt.Sprintf("%d of %d node DNS servers ready (%s/%s)", ready, len(s.Endpoints), dnsNamespace, dnsSlice)}
	if ready == 0 {
		h.Mark = Problem
	}
	return h, nil
}

func fromUnstructured(u *unstructured.Unstructured, out any) error {
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}
