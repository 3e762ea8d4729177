package api

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weirnet/weir/control/store"
)

// systemNamespaces exist from Bootstrap on and cannot be deleted.
// kube-node-lease holds the nodes' Leases (their heartbeats), as in
// Kubernetes.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// deleteBatch bounds the objects deleted by one Txn of a namespace
// deletion, keeping each raft entry small.
const deleteBatch = 64

// Bootstrap creates the system namespaces when missing. It is idempotent;
// call it once this member can write (it retries nothing itself).
func (s *Server) Bootstrap(ctx context.Context) error {
	res := s.reg.get("", "v1", "namespaces")
	for _, name := range systemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		_, err := s.create(ctx, &request{verb: "create", res: res}, ns)
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("api: bootstrap namespace %s: %w", name, err)
		}
	}
	if err := s.bootstrapAPIService(ctx); err != nil {
		return err
	}
	return s.bootstrapDNSService(ctx)
}

// DNS service of the cluster: kube-system/kube-dns, selector-less (its
// EndpointSlice, written by the controllers, lists the nodes' DNS
// listeners), at the 10th address of the service CIDR.
const (
	DNSServiceNamespace = "kube-system"
	DNSServiceName      = "kube-dns"
)

// DNSServiceIP is the ClusterIP of kube-dns: the 10th address of the
// service CIDR (10.96.0.10 for 10.96.0.0/12); false when the CIDR is too
// small to hold it.
func (s *Server) DNSServiceIP() (netip.Addr, bool) {
	if s.alloc.size < 10 {
		return netip.Addr{}, false
	}
	return s.alloc.nth(9), true
}

// bootstrapDNSService creates kube-system/kube-dns when missing.
func (s *Server) bootstrapDNSService(ctx context.Context) error {
	ip, ok := s.DNSServiceIP()
	if !ok {
		s.log.Warn("service CIDR too small for the cluster DNS service (needs 10 addresses); pods get no cluster DNS")
		return nil
	}
	return s.bootstrapService(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: DNSServiceName, Namespace: DNSServiceNamespace,
			Labels: map[string]string{"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip.String(), Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
		}},
	})
}

// bootstrapAPIService creates default/kubernetes at the first address of
// the service CIDR (10.96.0.1), as kube-apiserver does, so that the name
// `kubernetes.default` exists for clients and cluster DNS. It has no
// selector: the leader's apiendpoints controller lists the members' API
// addresses in its EndpointSlice (HTTPS, port name "https", as in
// Kubernetes).
func (s *Server) bootstrapAPIService(ctx context.Context) error {
	return s.bootstrapService(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: s.alloc.nth(0).String(), Ports: []corev1.ServicePort{
			{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(6443)},
		}},
	})
}

// bootstrapService creates svc unless it exists.
func (s *Server) bootstrapService(ctx context.Context, svc *corev1.Service) error {
	_, err := s.create(ctx, &request{verb: "create", res: s.reg.get("", "v1", "services"), namespace: svc.Namespace}, svc)
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("api: bootstrap service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// deleteNamespace marks the namespace Terminating (so no new content can
// be created in it), deletes every object in it in batches, then deletes
// the namespace. A deletion interrupted half-way resumes on the next
// DELETE.
func (s *Server) deleteNamespace(ctx context.Context, rq *request, opts *metav1.DeleteOptions) (object, error) {
	for _, n := range systemNamespaces {
		if rq.name == n {
			return nil, errForbidden(rq.res, n, errors.New("this namespace may not be deleted"))
		}
	}
	internal := &request{verb: "update", res: rq.res, name: rq.name, sub: subInternal, dryRun: rq.dryRun}
	nsObj, err := s.update(ctx, internal, func(cur object) (object, error) {
		if _, err := checkPreconditions(rq.res, cur, opts); err != nil {
			return nil, err
		}
		ns := cur.(*corev1.Namespace)
		if ns.DeletionTimestamp == nil {
			now := metav1.Now()
			ns.DeletionTimestamp = &now
		}
		ns.Status.Phase = corev1.NamespaceTerminating
		return ns, nil
	}, 0)
	if err != nil || rq.dryRun {
		return nsObj, err
	}
	for _, res := range s.reg.list {
		if res.Namespaced {
			if err := s.deleteAllIn(ctx, res, rq.name); err != nil {
				return nil, err
			}
		}
	}
	internal.verb = "delete"
	return s.remove(ctx, internal, &metav1.DeleteOptions{})
}

// deleteAllIn deletes every object of res in namespace ns.
func (s *Server) deleteAllIn(ctx context.Context, res *resource, ns string) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		lr, err := s.store.List(ctx, store.ListOptions{Resource: res.Resource(), Namespace: ns})
		if err != nil {
			return storeError(err, res, "")
		}
		if len(lr.Objects) == 0 {
			return nil
		}
		for start := 0; start < len(lr.Objects); start += deleteBatch {
			batch := lr.Objects[start:min(start+deleteBatch, len(lr.Objects))]
			p, err := s.deletePlan(res, batch)
			if err != nil {
				return err
			}
			if _, err := s.commit(ctx, p); err != nil && !errors.Is(err, errRetry) {
				return storeError(err, res, "")
			}
		}
	}
	return errConflict(res, ns, "objects kept appearing while the namespace was being deleted; retry the delete")
}

func (s *Server) deletePlan(res *resource, batch []store.Object) (*plan, error) {
	p := &plan{}
	for _, o := range batch {
		p.cond(store.Cond{Kind: store.RevisionIs, Key: o.Key, Revision: o.Revision}, nil)
		p.del(o.Key)
		if res.Kind != "Service" {
			continue
		}
		obj, err := res.decodeStored(o)
		if err != nil {
			return nil, errInternal(err)
		}
		s.alloc.release(p, obj.(*corev1.Service))
	}
	return p, nil
}
