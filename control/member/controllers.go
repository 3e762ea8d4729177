package member

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/rbac"
	"github.com/weirnet/weir/control/scheduler"
)

// leaderPoll is how often the member checks whether it leads.
const leaderPoll = 250 * time.Millisecond

// startLeaderLoops is StartLeaderLoops with the member's node lifecycle
// settings and the controllers' other defaults.
func (m *Member) startLeaderLoops(ctx context.Context) (wait func()) {
	return m.StartLeaderLoops(ctx, controllers.Config{NodeGracePeriod: m.cfg.NodeGracePeriod, EvictionTimeout: m.cfg.PodEvictionTimeout, EventTTL: m.cfg.EventTTL,
		LocalPathDir: m.cfg.LocalPathDir})
}

// StartLeaderLoops runs the scheduler and the controllers while this
// member is the raft leader: started when it becomes leader, cancelled and
// waited for when it stops being leader or ctx ends. They talk to this
// member's own API with the cluster token, as kube-controller-manager
// talks to kube-apiserver: one clientset and one shared informer factory
// per leader term. The returned function waits until everything
// has stopped (after ctx ends). cfg's Client and Logger are set here.
func (m *Member) StartLeaderLoops(ctx context.Context, cfg controllers.Config) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.leaderLoops(ctx, cfg)
	}()
	return func() { <-done }
}

func (m *Member) leaderLoops(ctx context.Context, cfg controllers.Config) {
	select { // the loops talk to this member's API over TLS
	case <-ctx.Done():
		return
	case <-m.tls.ready:
	}
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	var stop func()
	var caOf *nodestream.CA // the CA the loops' identities are from
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		switch leads := m.Store.IsLeader(); {
		case leads && stop != nil && m.tls.CA() != caOf:
			// A CA rotation: new identities and root CA bundle, as a new term.
			m.log.Info("cluster CA changed: restarting scheduler and controllers")
			stop()
			caOf, stop = m.tls.CA(), m.runLoops(ctx, cfg)
		case leads && stop == nil:
			m.log.Info("leader: starting scheduler and controllers")
			caOf, stop = m.tls.CA(), m.runLoops(ctx, cfg)
		case !leads && stop != nil:
			m.log.Info("no longer leader: stopping scheduler and controllers")
			stop()
			stop = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runLoops starts the loops and returns a function that stops them and
// waits. First it reconciles the bootstrap RBAC policy (as
// system:masters, like kube-apiserver's post-start hook); then the
// controllers run as system:kube-controller-manager and the scheduler as
// system:kube-scheduler, each with its own clientset and informers and
// only the rights of its bootstrap role.
func (m *Member) runLoops(ctx context.Context, cfg controllers.Config) func() {
	admin, err := kube.NewClientset(m.leaderRESTConfig(), "weir-rbac-bootstrap")
	if err != nil {
		m.log.Error("leader loops: clientset", "error", err)
		return func() {}
	}
	ctrlREST, err := m.componentRESTConfig(rbac.ControllerManagerUser)
	if err != nil {
		m.log.Error("leader loops: controller identity", "error", err)
		return func() {}
	}
	schedREST, err := m.componentRESTConfig(rbac.SchedulerUser)
	if err != nil {
		m.log.Error("leader loops: scheduler identity", "error", err)
		return func() {}
	}
	cs, err := kube.NewClientset(ctrlREST, "weir-controller-manager")
	if err != nil {
		m.log.Error("leader loops: clientset", "error", err)
		return func() {}
	}
	scs, err := kube.NewClientset(schedREST, "weir-scheduler")
	if err != nil {
		m.log.Error("leader loops: clientset", "error", err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	f, sf := kube.NewInformerFactory(cs), kube.NewInformerFactory(scs)
	cfg.Client, cfg.Informers, cfg.Logger = cs, f, m.log
	if cfg.RootCA == nil {
		cfg.RootCA = m.CACert() // kube-root-ca.crt in every namespace
	}
	sched := scheduler.New(scheduler.Config{Client: scs, Informers: sf, Logger: m.log, Now: cfg.Now})
	ctrl := controllers.New(cfg)
	var wg sync.WaitGroup
	wg.Go(func() { m.revocationLoop(ctx) })
	wg.Go(func() {
		if !m.reconcileRBAC(ctx, admin) {
			return
		}
		wg.Go(func() { sched.Run(ctx) })
		ctrl.Run(ctx)
	})
	return func() {
		cancel()
		wg.Wait()
		f.Shutdown()
		sf.Shutdown()
	}
}

// bootstrapRBAC reconciles the bootstrap RBAC policy once, through this
// member's API as system:masters, as kube-apiserver's post-start hook does
// before it reports ready.
func (m *Member) bootstrapRBAC(ctx context.Context) error {
	rc := m.leaderRESTConfig()
	rc.Timeout = 10 * time.Second
	cs, err := kube.NewClientset(rc, "weir-rbac-bootstrap")
	if err != nil {
		return err
	}
	return rbac.Reconcile(ctx, cs)
}

// reconcileRBAC reconciles the bootstrap RBAC policy, retrying until it
// succeeds (true) or ctx ends (false).
func (m *Member) reconcileRBAC(ctx context.Context, cs kubernetes.Interface) bool {
	for {
		err := rbac.Reconcile(ctx, cs)
		if err == nil {
			return true
		}
		m.log.Warn("reconcile the bootstrap RBAC policy", "error", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

// leaderRESTConfig is how the leader's loops reach this member's own API
// (kube.NewClientset adds the content type and rate limits), with the
// cluster token as it is at each request (a rotation replaces it: the
// inner wrapper overrides the header BearerToken sets).
func (m *Member) leaderRESTConfig() *rest.Config {
	return &rest.Config{Host: m.APIURL(), BearerToken: m.Store.Token(), TLSClientConfig: rest.TLSClientConfig{CAData: m.CACert()},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				r = r.Clone(r.Context())
				r.Header.Set("Authorization", "Bearer "+m.Store.Token())
				return rt.RoundTrip(r)
			})
		}}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// localAddr is addr with an unspecified host replaced by loopback.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
