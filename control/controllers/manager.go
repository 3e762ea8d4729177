package controllers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// Config configures the controllers.
type Config struct {
	Client *kube.Client
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
	// NodeGracePeriod is how long a node may miss heartbeats before its
	// Ready condition turns Unknown (default 40s).
	NodeGracePeriod time.Duration
	// EvictionTimeout is how long pods without their own tolerationSeconds
	// stay on an unreachable or not-ready node (default 300s).
	EvictionTimeout time.Duration
	// EventTTL is how long an Event lives after it was last seen
	// (default 1h, as kube-apiserver's --event-ttl).
	EventTTL time.Duration
	// Resync is how often every controller re-reconciles without a change,
	// for its time-based decisions (default 1s).
	Resync time.Duration
}

// Manager runs every controller over one set of shared informers.
type Manager struct {
	cfg Config
	log *slog.Logger
	c   *kube.Client
	rec *kube.Recorder
	inf *informers

	apiEndpointsAt time.Time // the last apiendpoints sync (its own goroutine only)
	eventTTLAt     time.Time // the last eventttl sync (its own goroutine only)
}

// informers are the caches every controller reads.
type informers struct {
	pods        *kube.Informer[*corev1.Pod]
	nodes       *kube.Informer[*corev1.Node]
	services    *kube.Informer[*corev1.Service]
	endpoints   *kube.Informer[*corev1.Endpoints]
	slices      *kube.Informer[*discoveryv1.EndpointSlice]
	namespaces  *kube.Informer[*corev1.Namespace]
	accounts    *kube.Informer[*corev1.ServiceAccount]
	replicasets *kube.Informer[*appsv1.ReplicaSet]
	deployments *kube.Informer[*appsv1.Deployment]
	jobs        *kube.Informer[*batchv1.Job]
	runs        []func(context.Context)
	synced      []func() bool
}

func newInformers(c *kube.Client, notify func(), log *slog.Logger) *informers {
	in := &informers{}
	in.pods = add(in, kube.NewInformer(c, kube.Pods, func() *corev1.Pod { return &corev1.Pod{} }, notify, log))
	in.nodes = add(in, kube.NewInformer(c, kube.Nodes, func() *corev1.Node { return &corev1.Node{} }, notify, log))
	in.services = add(in, kube.NewInformer(c, kube.Services, func() *corev1.Service { return &corev1.Service{} }, notify, log))
	in.endpoints = add(in, kube.NewInformer(c, kube.Endpoints, func() *corev1.Endpoints { return &corev1.Endpoints{} }, notify, log))
	in.slices = add(in, kube.NewInformer(c, kube.EndpointSlices, func() *discoveryv1.EndpointSlice { return &discoveryv1.EndpointSlice{} }, notify, log))
	in.namespaces = add(in, kube.NewInformer(c, kube.Namespaces, func() *corev1.Namespace { return &corev1.Namespace{} }, notify, log))
	in.accounts = add(in, kube.NewInformer(c, kube.ServiceAccounts, func() *corev1.ServiceAccount { return &corev1.ServiceAccount{} }, notify, log))
	in.replicasets = add(in, kube.NewInformer(c, kube.ReplicaSets, func() *appsv1.ReplicaSet { return &appsv1.ReplicaSet{} }, notify, log))
	in.deployments = add(in, kube.NewInformer(c, kube.Deployments, func() *appsv1.Deployment { return &appsv1.Deployment{} }, notify, log))
	in.jobs = add(in, kube.NewInformer(c, kube.Jobs, func() *batchv1.Job { return &batchv1.Job{} }, notify, log))
	return in
}

func add[P kube.Object](in *informers, i *kube.Informer[P]) *kube.Informer[P] {
	in.runs = append(in.runs, i.Run)
	in.synced = append(in.synced, i.Synced)
	return i
}

func (in *informers) allSynced() bool {
	for _, s := range in.synced {
		if !s() {
			return false
		}
	}
	return true
}

// New returns a Manager; nothing runs until Run.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NodeGracePeriod <= 0 {
		cfg.NodeGracePeriod = 40 * time.Second
	}
	if cfg.EvictionTimeout <= 0 {
		cfg.EvictionTimeout = 300 * time.Second
	}
	if cfg.Resync <= 0 {
		cfg.Resync = time.Second
	}
	if cfg.EventTTL <= 0 {
		cfg.EventTTL = time.Hour
	}
	log := cfg.Logger.With("component", "controllers")
	return &Manager{cfg: cfg, log: log, c: cfg.Client, rec: kube.NewRecorder(cfg.Client, "weir-controller-manager")}
}

// controller is one reconciliation loop over the shared caches.
type controller struct {
	name string
	sync func(ctx context.Context, now time.Time)
	sig  *kube.Signal
}

// Run runs every controller until ctx ends and returns once all of their
// goroutines have stopped.
func (m *Manager) Run(ctx context.Context) {
	ctrls := []*controller{
		{name: "replicaset", sync: m.syncReplicaSets},
		{name: "deployment", sync: m.syncDeployments},
		{name: "endpointslice", sync: m.syncEndpoints},
		{name: "dnsendpoints", sync: m.syncDNSEndpoints},
		{name: "apiendpoints", sync: m.syncAPIEndpoints},
		{name: "eventttl", sync: m.syncEventTTL},
		{name: "nodelifecycle", sync: m.syncNodes},
		{name: "job", sync: m.syncJobs},
		{name: "namespace", sync: m.syncNamespaces},
		{name: "garbagecollector", sync: m.syncGarbage},
	}
	for _, c := range ctrls {
		c.sig = kube.NewSignal()
	}
	m.inf = newInformers(m.c, func() {
		for _, c := range ctrls {
			c.sig.Notify()
		}
	}, m.log)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, run := range m.inf.runs {
		wg.Go(func() { run(ctx) })
	}
	for _, c := range ctrls {
		wg.Go(func() { m.loop(ctx, c) })
	}
}

func (m *Manager) loop(ctx context.Context, c *controller) {
	t := time.NewTicker(m.cfg.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.sig.C:
		case <-t.C:
		}
		if m.inf.allSynced() {
			c.sync(ctx, m.cfg.Now())
		}
	}
}

// event records an event, logging a failure at debug level.
func (m *Manager) event(ctx context.Context, apiVersion, kind string, obj interface {
	GetName() string
}, typ, reason, msg string) {
	o, ok := obj.(kube.Object)
	if !ok {
		return
	}
	if err := m.rec.Event(ctx, apiVersion, kind, o, typ, reason, msg, m.cfg.Now()); err != nil {
		m.log.Debug("event", "error", err)
	}
}
