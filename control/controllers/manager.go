package controllers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weirnet/weir/control/controllers/kube"
)

// Config configures the controllers.
type Config struct {
	// Client is the clientset every controller writes through
	// (kube.NewClientset).
	Client kubernetes.Interface
	// Informers is the leader term's shared informer factory
	// (kube.NewInformerFactory), shared with the scheduler. Run starts it;
	// its owner shuts it down after Run returned. Nil: the Manager makes
	// its own and shuts it down when Run returns.
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now
	// NodeGracePeriod is how long a node may miss heartbeats before its
	// Ready condition turns Unknown (default 40s).
	NodeGracePeriod time.Duration
	// EvictionTimeout is how long pods without their own tolerationSeconds
	// stay on an unreachable or not-ready node (default 300s).
	EvictionTimeout time.Duration
	// EventTTL is how long an Event lives after it was last seen
	// (default 1h, as kube-apiserver's --event-ttl).
	EventTTL time.Duration
	// Resync is how often time-based decisions are looked at again
	// without a change: the owners waiting on a deadline or on
	// minReadySeconds (default 1s); every node's heartbeat at most this
	// often (kube's node monitor period: NodeGracePeriod/8, 5 s at most). Changes reach the controllers as events, not by this.
	Resync time.Duration
	// Workers is how many keys each controller reconciles at once
	// (default 2).
	Workers int
	// OnReconcile, when set, is called after each reconciliation of one
	// key by one controller (tests count them).
	OnReconcile func(controller, key string)
	// QuotaResync is how often every namespace with a ResourceQuota is
	// recounted (default 10s): the safety net, and how the release of
	// kinds without an informer here (ConfigMaps, Secrets) reaches
	// status.used.
	QuotaResync time.Duration
	// RootCA is the cluster CA (PEM) the root CA publisher puts in every
	// namespace's kube-root-ca.crt ConfigMap (rootca.go); nil: off.
	RootCA []byte
	// LocalPathDir is where the local-path provisioner puts volumes on
	// the nodes (localpath.go); default /var/lib/weir/storage.
	LocalPathDir string
}

// Manager runs every controller over one set of shared informers.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	c     kubernetes.Interface
	rec   *kube.Recorder
	f     informers.SharedInformerFactory
	owned bool // f was made here
	in    caches

	kinds map[string]*gcKind // the garbage collector's kinds

	rsExp, jobExp, dsExp *expectations
	loops                loops
	rootca               *rootCA
	evictBlocked         sync.Map      // pod UID -> time of its last EvictionBlocked event
	pvb                  *volumeBinder // pvbinder.go
}

// caches are the informers and listers the controllers read (shared,
// read-only objects: DeepCopy before changing one).
type caches struct {
	pods, nodes, services, endpoints, slices, namespaces, accounts, replicasets, deployments, jobs, quotas cache.SharedIndexInformer
	daemonsets, cronjobs, revisions, pdbs, statefulsets, leases                                            cache.SharedIndexInformer

	podLister    corelisters.PodLister
	nodeLister   corelisters.NodeLister
	svcLister    corelisters.ServiceLister
	epLister     corelisters.EndpointsLister
	sliceLister  discoverylisters.EndpointSliceLister
	nsLister     corelisters.NamespaceLister
	saLister     corelisters.ServiceAccountLister
	rsLister     appslisters.ReplicaSetLister
	deployLister appslisters.DeploymentLister
	jobLister    batchlisters.JobLister
	quotaLister  corelisters.ResourceQuotaLister
	dsLister     appslisters.DaemonSetLister
	stsLister    appslisters.StatefulSetLister
	cjLister     batchlisters.CronJobLister
	clusterRoles cache.SharedIndexInformer
	crLister     rbaclisters.ClusterRoleLister
	pdbLister    policylisters.PodDisruptionBudgetLister
	leaseLister  coordinationlisters.LeaseLister
	synced       []cache.InformerSynced
	all          []cache.SharedIndexInformer
}

// loops are the controllers of one Run.
type loops struct {
	replicaset, deployment, endpointslice, dnsendpoints, apiendpoints, eventttl, nodelifecycle, job, namespace, gc *loop
	clusterroleaggregation, quota, daemonset, cronjob, disruption, statefulset                                     *loop
}

func (l *loops) list() []*loop {
	return []*loop{l.replicaset, l.deployment, l.endpointslice, l.dnsendpoints, l.apiendpoints, l.eventttl,
		l.nodelifecycle, l.job, l.namespace, l.gc, l.clusterroleaggregation, l.quota, l.daemonset, l.cronjob, l.disruption,
		l.statefulset}
}

// New returns a Manager and asks the informer factory for the informers
// it reads; nothing runs until Run.
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
	if cfg.QuotaResync <= 0 {
		cfg.QuotaResync = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	m := &Manager{cfg: cfg, log: cfg.Logger.With("component", "controllers"), c: cfg.Client,
		rec: kube.NewRecorder(cfg.Client, "weir-controller-manager"), f: cfg.Informers}
	if m.f == nil {
		m.f, m.owned = kube.NewInformerFactory(cfg.Client), true
	}
	f, in := m.f, &m.in
	pods, rs, jobs, slices, eps := kube.Pods(f), kube.ReplicaSets(f), kube.Jobs(f), kube.EndpointSlices(f), kube.Endpoints(f)
	nodes, svcs, nss, sas, ds := f.Core().V1().Nodes(), f.Core().V1().Services(), f.Core().V1().Namespaces(),
		f.Core().V1().ServiceAccounts(), f.Apps().V1().Deployments()
	in.pods, in.podLister = pods.Informer(), pods.Lister()
	in.replicasets, in.rsLister = rs.Informer(), rs.Lister()
	in.jobs, in.jobLister = jobs.Informer(), jobs.Lister()
	in.slices, in.sliceLister = slices.Informer(), slices.Lister()
	in.endpoints, in.epLister = eps.Informer(), eps.Lister()
	in.nodes, in.nodeLister = nodes.Informer(), nodes.Lister()
	in.services, in.svcLister = svcs.Informer(), svcs.Lister()
	in.namespaces, in.nsLister = nss.Informer(), nss.Lister()
	in.accounts, in.saLister = sas.Informer(), sas.Lister()
	in.deployments, in.deployLister = ds.Informer(), ds.Lister()
	rqs := f.Core().V1().ResourceQuotas()
	in.quotas, in.quotaLister = rqs.Informer(), rqs.Lister()
	dss, cjs := f.Apps().V1().DaemonSets(), f.Batch().V1().CronJobs()
	in.daemonsets, in.dsLister = dss.Informer(), dss.Lister()
	in.cronjobs, in.cjLister = cjs.Informer(), cjs.Lister()
	in.revisions = kube.ControllerRevisions(f).Informer()
	sts := f.Apps().V1().StatefulSets()
	in.statefulsets, in.stsLister = sts.Informer(), sts.Lister()
	leases := f.Coordination().V1().Leases()
	in.leases, in.leaseLister = leases.Informer(), leases.Lister()
	crs := f.Rbac().V1().ClusterRoles()
	in.clusterRoles, in.crLister = crs.Informer(), crs.Lister()
	pdbs := f.Policy().V1().PodDisruptionBudgets()
	in.pdbs, in.pdbLister = pdbs.Informer(), pdbs.Lister()
	in.all = []cache.SharedIndexInformer{in.pods, in.replicasets, in.jobs, in.slices, in.endpoints, in.nodes,
		in.services, in.namespaces, in.accounts, in.deployments, in.clusterRoles, in.quotas, in.daemonsets, in.cronjobs, in.revisions,
		in.pdbs, in.statefulsets, in.leases}
	for _, i := range in.all {
		in.synced = append(in.synced, i.HasSynced)
	}
	m.rootca = m.newRootCA()
	m.pvb = m.newVolumeBinder()
	if err := kube.IndexByOwnerUID(m.pvb.claims); err != nil { // the garbage collector's (StatefulSet claims)
		m.log.Error("index claims by owner", "error", err)
	}
	in.synced = append(in.synced, m.pvb.claims.HasSynced, m.pvb.volumes.HasSynced, m.pvb.classes.HasSynced)
	return m
}

// Run runs every controller until ctx ends and returns once all of their
// goroutines have stopped.
func (m *Manager) Run(ctx context.Context) {
	w := m.cfg.Workers
	m.rsExp, m.jobExp, m.dsExp = newExpectations(), newExpectations(), newExpectations()
	m.loops = loops{
		replicaset:    newLoop("replicaset", w, m.syncReplicaSet),
		deployment:    newLoop("deployment", w, m.syncDeployment),
		endpointslice: newLoop("endpointslice", w, m.syncService),
		dnsendpoints:  newLoop("dnsendpoints", 1, m.syncDNSEndpoints),
		apiendpoints:  newLoop("apiendpoints", 1, m.syncAPIEndpoints),
		eventttl:      newLoop("eventttl", 1, m.syncEventTTL),
		nodelifecycle: newLoop("nodelifecycle", w, m.syncNode),
		job:           newLoop("job", w, m.syncJob),
		namespace:     newLoop("namespace", w, m.syncNamespace),
		gc:            newLoop("garbagecollector", w, m.syncGarbage),

		clusterroleaggregation: newLoop("clusterrole-aggregation", 1, m.syncClusterRoleAggregation),
		quota:                  newLoop("resourcequota", w, m.syncQuotas),
		daemonset:              newLoop("daemonset", w, m.syncDaemonSet),
		cronjob:                newLoop("cronjob", w, m.syncCronJob),
		disruption:             newLoop("disruption", w, m.syncDisruption),
		statefulset:            newLoop("statefulset", w, m.syncStatefulSet),
	}
	var wg sync.WaitGroup
	var h handlers
	defer func() {
		for _, l := range m.loops.list() {
			l.q.ShutDown() // the workers end; the tickers end with ctx
		}
		wg.Wait()
		h.remove()
		if m.owned {
			m.f.Shutdown()
		}
	}()
	m.watchReplicaSets(&h)
	m.watchDeployments(&h)
	m.watchEndpoints(&h)
	m.watchDNSEndpoints(&h)
	m.watchAPIEndpoints(&h)
	m.watchNodes(&h)
	m.watchJobs(&h)
	m.watchNamespaces(&h)
	m.watchGarbage(&h)
	m.watchClusterRoles(&h)
	m.watchQuotas(&h)
	m.watchDaemonSets(&h)
	m.watchCronJobs(&h)
	m.watchDisruption(&h)
	m.watchStatefulSets(&h)
	if h.err != nil {
		m.log.Error("register informer handlers", "error", h.err)
		return
	}
	m.f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), m.in.synced...) {
		return
	}
	for _, l := range m.loops.list() {
		l.run(ctx, &wg, m.cfg.Now, m.log, m.cfg.OnReconcile)
	}
	m.runRootCA(ctx, &wg, &h)
	m.runVolumeBinder(ctx, &wg, &h)
	m.loops.eventttl.add(eventTTLKey)
	m.loops.apiendpoints.add(kube.Key(APINamespace, APIService))
	every(ctx, &wg, m.eventTTLEvery(), m.loops.eventttl, func() []string { return []string{eventTTLKey} })
	every(ctx, &wg, apiEndpointsEvery, m.loops.apiendpoints, func() []string { return []string{kube.Key(APINamespace, APIService)} })
	every(ctx, &wg, m.nodeMonitorPeriod(), m.loops.nodelifecycle, m.nodeKeys)
	every(ctx, &wg, m.cfg.QuotaResync, m.loops.quota, m.quotaNamespaces)
	<-ctx.Done()
}

// handlers are the event handlers one Run registered, removed when it
// returns (the factory may outlive it).
type handlers struct {
	regs []registration
	err  error
}

type registration struct {
	inf cache.SharedIndexInformer
	reg cache.ResourceEventHandlerRegistration
}

// on registers add, update and del (each may be nil) on inf.
func (h *handlers) on(inf cache.SharedIndexInformer, add func(obj any), update func(old, cur any), del func(obj any)) {
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: update, DeleteFunc: del})
	if err != nil {
		h.err = err
		return
	}
	h.regs = append(h.regs, registration{inf, reg})
}

// onAny calls f with the object on any add, update (the new and the old
// state) or delete.
func (h *handlers) onAny(inf cache.SharedIndexInformer, f func(obj any)) {
	h.on(inf, f, func(old, cur any) { f(old); f(cur) }, f)
}

func (h *handlers) remove() {
	for _, r := range h.regs {
		_ = r.inf.RemoveEventHandler(r.reg)
	}
}

// keyOf is obj's cache key (namespace/name); "" for what is no object.
func keyOf(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Key
	}
	o, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return kube.Key(o.GetNamespace(), o.GetName())
}

// event records an event, logging a failure at debug level.
func (m *Manager) event(ctx context.Context, apiVersion, kind string, obj interface {
	GetName() string
}, typ, reason, msg string) {
	o, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	if err := m.rec.Event(ctx, apiVersion, kind, o, typ, reason, msg, m.cfg.Now()); err != nil {
		m.log.Debug("event", "error", err)
	}
}
