package scheduler

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/controllers/kube"
)

// Name is the scheduler's name in pods' spec.schedulerName and in events.
const Name = "default-scheduler"

// Config configures a Scheduler.
type Config struct {
	Client *kube.Client
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// Scheduler is the scheduling loop. Run it on the leader only.
type Scheduler struct {
	cfg   Config
	log   *slog.Logger
	rec   *kube.Recorder
	pods  *kube.Informer[*corev1.Pod]
	nodes *kube.Informer[*corev1.Node]
	sig   *kube.Signal
	// binds bounds the bindings in flight; binders is their owner.
	binds   chan struct{}
	binders sync.WaitGroup

	mu sync.Mutex
	// bound remembers pods assumed on a node (being bound, or bound but
	// not yet seen bound by the watch), so that they are accounted and
	// not bound twice.
	bound map[types.UID]*corev1.Pod
}

// maxBinds is how many bindings may be in flight at once: each is an API
// write plus an Event, and a burst of pods binds that many times faster
// than one at a time (kube-scheduler binds asynchronously too).
const maxBinds = 16

// New returns a Scheduler; nothing runs until Run.
func New(cfg Config) *Scheduler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Scheduler{cfg: cfg, log: cfg.Logger.With("component", "scheduler"), sig: kube.NewSignal(),
		bound: map[types.UID]*corev1.Pod{}, binds: make(chan struct{}, maxBinds)}
	s.rec = kube.NewRecorder(cfg.Client, Name)
	s.pods = kube.NewInformer(cfg.Client, kube.Pods, func() *corev1.Pod { return &corev1.Pod{} }, s.sig.Notify, s.log)
	s.nodes = kube.NewInformer(cfg.Client, kube.Nodes, func() *corev1.Node { return &corev1.Node{} }, s.sig.Notify, s.log)
	return s
}

// Run schedules until ctx ends; it returns after its informers stopped.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.pods.Run(ctx) })
	wg.Go(func() { s.nodes.Run(ctx) })
	defer wg.Wait()
	defer s.binders.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.sig.C:
		}
		if s.pods.Synced() && s.nodes.Synced() {
			s.round(ctx)
		}
	}
}

// round schedules every pending pod once on a fresh cache.
func (s *Scheduler) round(ctx context.Context) {
	all := s.pods.List()
	var placed, pending []*corev1.Pod
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range all {
		if b, ok := s.bound[p.UID]; ok {
			if p.Spec.NodeName == "" {
				placed = append(placed, b) // bound, not yet seen
				continue
			}
			delete(s.bound, p.UID)
		}
		switch {
		case p.Spec.NodeName != "":
			placed = append(placed, p)
		case wantsUs(p):
			pending = append(pending, p)
		}
	}
	s.forgetGone(all)
	if len(pending) == 0 {
		return
	}
	sort.Slice(pending, func(i, j int) bool { return olderThan(pending[i], pending[j]) })
	cache := NewCache(s.nodes.List(), placed)
	for _, p := range pending {
		if ctx.Err() != nil {
			return
		}
		if _, ok := s.bound[p.UID]; ok {
			continue // its binding is in flight
		}
		d, fe := cache.Schedule(p)
		if fe != nil {
			s.unschedulable(ctx, p, fe)
			continue
		}
		s.assume(ctx, cache, p, d.Node)
	}
}

// wantsUs reports whether p waits for this scheduler.
func wantsUs(p *corev1.Pod) bool {
	return (p.Spec.SchedulerName == "" || p.Spec.SchedulerName == Name) &&
		p.DeletionTimestamp == nil && !Terminal(p)
}

func olderThan(a, b *corev1.Pod) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}

// forgetGone drops bound pods that were deleted before the watch showed
// them bound (s.mu held).
func (s *Scheduler) forgetGone(all []*corev1.Pod) {
	if len(s.bound) == 0 {
		return
	}
	seen := make(map[types.UID]bool, len(all))
	for _, p := range all {
		seen[p.UID] = true
	}
	for uid := range s.bound {
		if !seen[uid] {
			delete(s.bound, uid)
		}
	}
}
