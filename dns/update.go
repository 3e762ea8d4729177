package dns

import (
	"errors"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ErrNotReady is returned by Apply before a full snapshot was applied.
var ErrNotReady = errors.New("dns: no snapshot applied yet: call Update with a full snapshot before Apply")

// Delta is an incremental change: objects created or replaced, and
// objects deleted (by namespace and name).
type Delta struct {
	Services       []corev1.Service
	EndpointSlices []discoveryv1.EndpointSlice
	Pods           []corev1.Pod

	DeletedServices       []types.NamespacedName
	DeletedEndpointSlices []types.NamespacedName
	DeletedPods           []types.NamespacedName
}

// Update replaces everything the server knows with a full snapshot and
// makes the server ready. Objects with unusable fields (an IP that does
// not parse, say) are served without them and logged. Queries that start
// after Update returns see the new records.
func (s *Server) Update(services []corev1.Service, slices []discoveryv1.EndpointSlice, pods []corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := newStore(s.deriver())
	a := newAffected()
	s.put(st, Delta{Services: services, EndpointSlices: slices, Pods: pods}, a)
	st.refresh(a.svcs, a.pods, nil)
	s.st = st
	s.publish(st.fullIndex(s.nextSerial()))
	s.m.full.Inc()
}

// Apply applies an incremental change after the first Update. Only the
// names the change touches are rebuilt, so its cost does not grow with the
// size of the cluster.
func (s *Server) Apply(d Delta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.idx.Load()
	if s.st == nil || cur == nil {
		return ErrNotReady
	}
	a := newAffected()
	for _, n := range d.DeletedServices {
		s.st.delService(nsName{lower(n.Namespace), lower(n.Name)}, a)
	}
	for _, n := range d.DeletedEndpointSlices {
		s.st.delSlice(nsName{lower(n.Namespace), lower(n.Name)}, a)
	}
	for _, n := range d.DeletedPods {
		s.st.delPod(nsName{lower(n.Namespace), lower(n.Name)}, a)
	}
	s.put(s.st, d, a)
	dirty := map[string]struct{}{}
	s.st.refresh(a.svcs, a.pods, dirty)
	s.publish(s.st.patchIndex(cur, dirty, s.nextSerial()))
	s.m.changed.Add(float64(len(dirty)))
	return nil
}

func (s *Server) put(st *store, d Delta, a affected) {
	for i := range d.Services {
		svc, bad := slimService(&d.Services[i])
		s.warnBad("Service", svc.id, bad)
		st.putService(svc, a)
	}
	for i := range d.EndpointSlices {
		sl, bad := slimSlice(&d.EndpointSlices[i])
		s.warnBad("EndpointSlice", sl.id, bad)
		st.putSlice(sl, a)
	}
	for i := range d.Pods {
		p, bad := slimPod(&d.Pods[i])
		s.warnBad("Pod", p.id, bad)
		st.putPod(p, a)
	}
}

func (s *Server) warnBad(kind string, id nsName, bad []string) {
	if len(bad) > 0 {
		s.log.Warn("ignoring invalid fields; fix the object", "kind", kind, "object", id.String(), "invalid", strings.Join(bad, ", "))
	}
}

func (s *Server) publish(ix *index) {
	s.idx.Store(ix)
	s.m.updates.Inc()
	s.m.records.Set(float64(s.st.records))
}

func (s *Server) deriver() deriver {
	return deriver{zone: s.cfg.Zone, ttl: s.cfg.ttlSeconds(), pods: s.cfg.PodRecords}
}

// nextSerial returns the SOA serial of a new index: the time in seconds,
// but always greater than the previous serial.
func (s *Server) nextSerial() uint32 {
	now := uint32(time.Now().Unix())
	if now <= s.serial {
		now = s.serial + 1
	}
	s.serial = now
	return now
}
