package scheduler

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// Name is the scheduler's name in pods' spec.schedulerName and in events.
const Name = "default-scheduler"

// Config configures a Scheduler.
type Config struct {
	// Client is the clientset the scheduler binds and writes through.
	Client kubernetes.Interface
	// Informers is the leader term's shared informer factory
	// (kube.NewInformerFactory), shared with the controllers. Run starts
	// it; its owner shuts it down after Run returned. Nil: the Scheduler
	// makes its own and shuts it down when Run returns.
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now
}

// Scheduler is the scheduling loop. Run it on the leader only.
type Scheduler struct {
	cfg        Config
	log        *slog.Logger
	rec        *kube.Recorder
	f          informers.SharedInformerFactory
	owned      bool // f was made here
	pods       cache.SharedIndexInformer
	nodes      cache.SharedIndexInformer
	podLister  corelisters.PodLister
	nodeLister corelisters.NodeLister
	// claims, volumes and classes: the volume binding filter (volumes.go)
	claims, volumes, classes cache.SharedIndexInformer
	claimLister              corelisters.PersistentVolumeClaimLister
	volumeLister             corelisters.PersistentVolumeLister
	classLister              storagelisters.StorageClassLister
	sig                      *signal
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
	s := &Scheduler{cfg: cfg, log: cfg.Logger.With("component", "scheduler"), sig: newSignal(),
		bound: map[types.UID]*corev1.Pod{}, binds: make(chan struct{}, maxBinds), f: cfg.Informers}
	s.rec = kube.NewRecorder(cfg.Client, Name)
	if s.f == nil {
		s.f, s.owned = kube.NewInformerFactory(cfg.Client), true
	}
	pods, nodes := kube.Pods(s.f), s.f.Core().V1().Nodes()
	s.pods, s.podLister = pods.Informer(), pods.Lister()
	s.nodes, s.nodeLister = nodes.Informer(), nodes.Lister()
	pvcs, pvs, scs := s.f.Core().V1().PersistentVolumeClaims(), s.f.Core().V1().PersistentVolumes(), s.f.Storage().V1().StorageClasses()
	s.claims, s.claimLister = pvcs.Informer(), pvcs.Lister()
	s.volumes, s.volumeLister = pvs.Informer(), pvs.Lister()
	s.classes, s.classLister = scs.Informer(), scs.Lister()
	return s
}

// Run schedules until ctx ends; it returns after its bindings ended.
func (s *Scheduler) Run(ctx context.Context) {
	wake := func(any) { s.sig.notify() }
	for _, h := range []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{s.pods, cache.ResourceEventHandlerFuncs{AddFunc: s.podEvent, UpdateFunc: func(_, cur any) { s.podEvent(cur) }, DeleteFunc: wake}},
		{s.nodes, cache.ResourceEventHandlerFuncs{AddFunc: wake, UpdateFunc: func(_, cur any) { wake(cur) }, DeleteFunc: wake}},
		{s.claims, cache.ResourceEventHandlerFuncs{AddFunc: wake, UpdateFunc: func(_, cur any) { wake(cur) }, DeleteFunc: wake}},
		{s.volumes, cache.ResourceEventHandlerFuncs{AddFunc: wake, UpdateFunc: func(_, cur any) { wake(cur) }, DeleteFunc: wake}},
		{s.classes, cache.ResourceEventHandlerFuncs{AddFunc: wake, UpdateFunc: func(_, cur any) { wake(cur) }}},
	} {
		reg, err := h.inf.AddEventHandler(h.h)
		if err != nil {
			s.log.Error("register informer handler", "error", err)
			return
		}
		defer func() { _ = h.inf.RemoveEventHandler(reg) }()
	}
	if s.owned {
		defer s.f.Shutdown()
	}
	defer s.binders.Wait()
	s.f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), s.pods.HasSynced, s.nodes.HasSynced, s.claims.HasSynced, s.volumes.HasSynced, s.classes.HasSynced) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.sig.c:
		}
		s.round(ctx)
	}
}

// podEvent wakes the loop for a pod change that may change a decision: a
// pod waiting for this scheduler, or one that finished or is going away
// (its resources free up). Bound pods' other changes do not.
func (s *Scheduler) podEvent(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.NodeName == "" || p.DeletionTimestamp != nil || Terminal(p) {
		s.sig.notify()
	}
}

// signal is a coalescing wake-up: any number of notify calls between two
// receives on c wake the receiver once.
type signal struct{ c chan struct{} }

func newSignal() *signal { return &signal{c: make(chan struct{}, 1)} }

func (s *signal) notify() {
	select {
	case s.c <- struct{}{}:
	default:
	}
}

// round schedules every pending pod once on a fresh cache.
func (s *Scheduler) round(ctx context.Context) {
	all, _ := s.podLister.List(labels.Everything())
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
	nodes, _ := s.nodeLister.List(labels.Everything())
	cache := NewCache(nodes, placed)
	for _, p := range pending {
		if ctx.Err() != nil {
			return
		}
		if _, ok := s.bound[p.UID]; ok {
			continue // its binding is in flight
		}
		q, why := s.withVolumes(p)
		if why != "" {
			s.unschedulable(ctx, p, &FitError{NumNodes: cache.Nodes(), Reasons: map[string]int{why: cache.Nodes()}})
			continue
		}
		d, fe := cache.Schedule(q)
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
