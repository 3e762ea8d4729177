package member

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/scheduler"
)

// leaderPoll is how often the member checks whether it leads.
const leaderPoll = 250 * time.Millisecond

// startLeaderLoops is StartLeaderLoops with the member's node lifecycle
// settings and the controllers' other defaults.
func (m *Member) startLeaderLoops(ctx context.Context) (wait func()) {
	return m.StartLeaderLoops(ctx, controllers.Config{NodeGracePeriod: m.cfg.NodeGracePeriod, EvictionTimeout: m.cfg.PodEvictionTimeout, EventTTL: m.cfg.EventTTL})
}

// StartLeaderLoops runs the scheduler and the controllers while this
// member is the raft leader: started when it becomes leader, cancelled and
// waited for when it stops being leader or ctx ends. They talk to this
// member's own API with the cluster token, as kube-controller-manager
// talks to kube-apiserver. The returned function waits until everything
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
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	var stop func()
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		switch leads := m.Store.IsLeader(); {
		case leads && stop == nil:
			m.log.Info("leader: starting scheduler and controllers")
			stop = m.runLoops(ctx, cfg)
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
// waits.
func (m *Member) runLoops(ctx context.Context, cfg controllers.Config) func() {
	ctx, cancel := context.WithCancel(ctx)
	c := kube.New(localAddr(m.APIAddr()), m.Store.Token())
	cfg.Client, cfg.Logger = c, m.log
	var wg sync.WaitGroup
	wg.Go(func() { scheduler.New(scheduler.Config{Client: c, Logger: m.log, Now: cfg.Now}).Run(ctx) })
	wg.Go(func() { controllers.New(cfg).Run(ctx) })
	return func() {
		cancel()
		wg.Wait()
		c.Close()
	}
}

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
