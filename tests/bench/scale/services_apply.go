package scale

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// namespace holds every object the benchmark writes.
const namespace = "weir-scale"

// The workload: Service i is s%06d, selector-less, ClusterIP, port 80/TCP;
// Services with i%EndpointsEvery == 0 have EndpointSlice s%06d-0 with
// endpoints 172.16.0.0+i+j (j < Endpoints) on port 8080.
func serviceName(i int) string { return fmt.Sprintf("s%06d", i) }

func serviceObj(i int) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: serviceName(i), Namespace: namespace},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}}}
}

func endpointIP(i, j int) netip.Addr { return addrPlus(netip.MustParseAddr("172.16.0.0"), i+j) }

func sliceObj(svc string, ips []netip.Addr) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svc + "-0", Namespace: namespace,
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}}}
	for _, ip := range ips {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	return s
}

func workloadSlice(cfg Config, i int) *discoveryv1.EndpointSlice {
	ips := make([]netip.Addr, cfg.Endpoints)
	for j := range ips {
		ips[j] = endpointIP(i, j)
	}
	return sliceObj(serviceName(i), ips)
}

func addrPlus(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Apply is one apply of Services [From, To) and their slices.
type Apply struct {
	From       int     `json:"from"`
	To         int     `json:"to"`
	Objects    int     `json:"objects"` // Services + EndpointSlices created
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"objectsPerSecond"`
	clusterIPs map[int]netip.Addr
}

// apply creates Services [from, to) and their slices with cfg.Workers
// concurrent writers (a Service, then its slice, per item), and records
// the ClusterIPs of the Services that have endpoints.
func apply(ctx context.Context, cfg Config, c kubernetes.Interface, from, to int) (Apply, error) {
	a := Apply{From: from, To: to, clusterIPs: map[int]netip.Addr{}}
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.Workers {
		wg.Go(func() {
			for i := range next {
				n, ip, err := createOne(ctx, cfg, c, i)
				mu.Lock()
				a.Objects += n
				if ip.IsValid() {
					a.clusterIPs[i] = ip
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for i := from; i < to; i++ {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	a.Seconds = time.Since(start).Seconds()
	a.PerSec = float64(a.Objects) / a.Seconds
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return a, firstErr
}

func createOne(ctx context.Context, cfg Config, c kubernetes.Interface, i int) (int, netip.Addr, error) {
	svc, err := c.CoreV1().Services(namespace).Create(ctx, serviceObj(i), metav1.CreateOptions{})
	if err != nil {
		return 0, netip.Addr{}, fmt.Errorf("create Service %s: %w", serviceName(i), err)
	}
	if i%cfg.EndpointsEvery != 0 {
		return 1, netip.Addr{}, nil
	}
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil {
		return 1, netip.Addr{}, fmt.Errorf("Service %s: ClusterIP %q: %w", svc.Name, svc.Spec.ClusterIP, err)
	}
	if _, err := c.DiscoveryV1().EndpointSlices(namespace).Create(ctx, workloadSlice(cfg, i), metav1.CreateOptions{}); err != nil {
		return 1, ip, fmt.Errorf("create EndpointSlice of %s: %w", svc.Name, err)
	}
	return 2, ip, nil
}

// createNamespace creates the benchmark's namespace (once per cluster).
func createNamespace(ctx context.Context, c kubernetes.Interface) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
