package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	containerd "github.com/containerd/containerd"
	corev1 "k8s.io/api/core/v1"
)

// maxProbeKillGrace caps the grace period of a container killed by a
// failed liveness or startup probe.
const maxProbeKillGrace = 2 * time.Minute

// probeKill asks the container loop to kill the container: a liveness or
// startup probe failed failureThreshold times in a row, or its postStart
// hook failed (event: the Killing event's message, hooks.go).
type probeKill struct {
	msg   string
	grace time.Duration
	event string
}

// probeRun runs the probes of one container instance. It is owned by the
// container loop: startProbes when the container runs, stop (which waits
// for its goroutines) once it exited. The startup probe runs first; the
// liveness and readiness probes start once it succeeded.
type probeRun struct {
	w       *podWorker
	c       *corev1.Container
	chk     *checker
	log     *slog.Logger
	start   time.Time // when the container started
	adopted bool      // running before this agent: probe at once
	started chan struct{}
	kill    chan probeKill // buffered: only the first kill counts
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func (w *podWorker) startProbes(ctx context.Context, c *corev1.Container, task containerd.Task, start time.Time, adopted bool, log *slog.Logger) *probeRun {
	ctx, cancel := context.WithCancel(ctx)
	p := &probeRun{w: w, c: c, log: log, start: start, adopted: adopted, started: make(chan struct{}),
		kill: make(chan probeKill, 1), cancel: cancel,
		chk: &checker{ctr: c, podIP: w.sb.podIP.String(), netns: w.r.cfg.NodeNetns,
			exec: &execer{task: task, fifoDir: filepath.Join(w.r.cfg.DataDir, "fifo")}}}
	if c.StartupProbe == nil || w.isStarted(c.Name) { // adopted after its startup
		close(p.started)
	} else {
		p.goLoop(ctx, startupProbe, c.StartupProbe, p.onStartup)
	}
	if c.LivenessProbe != nil {
		p.goLoop(ctx, livenessProbe, c.LivenessProbe, p.onLiveness)
	}
	if c.ReadinessProbe != nil {
		p.goLoop(ctx, readinessProbe, c.ReadinessProbe, p.onReadiness)
	}
	return p
}

// stop ends the probes and waits for them (each check is bounded by its
// timeout).
func (p *probeRun) stop() {
	p.cancel()
	p.wg.Wait()
}

func (p *probeRun) goLoop(ctx context.Context, kind probeKind, probe *corev1.Probe, handle func(bool, string, *corev1.Probe) bool) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.loop(ctx, kind, probe, handle)
	}()
}

// loop probes every period from initialDelaySeconds after the container
// started (liveness and readiness: once it has started) and hands each
// settled result to handle until handle returns false.
func (p *probeRun) loop(ctx context.Context, kind probeKind, probe *corev1.Probe, handle func(bool, string, *corev1.Probe) bool) {
	if kind != startupProbe {
		select {
		case <-p.started:
		case <-ctx.Done():
			return
		}
	}
	pp := paramsOf(probe, kind)
	th := newThreshold(pp, kind)
	next := p.start.Add(pp.delay)
	if p.adopted {
		next = time.Now()
	}
	warned := false
	for sleepUntil(ctx, next) {
		ok, msg, err := p.chk.check(ctx, probe, pp.timeout)
		if ctx.Err() != nil {
			return
		}
		next = next.Add(pp.period)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		if err != nil {
			if !warned { // the same each time: say it once per instance
				p.log.Warn(kind.String()+" probe cannot run; its results are ignored", "error", err)
				warned = true
			}
			continue
		}
		if !ok {
			p.log.Debug(kind.String()+" probe failed", "output", msg)
			p.w.probeFailed(p.c, kind, msg)
		}
		if value, settled := th.observe(ok); settled && !handle(value, msg, probe) {
			return
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (p *probeRun) onStartup(ok bool, msg string, probe *corev1.Probe) bool {
	if ok {
		p.log.Info("startup probe succeeded")
		p.w.setStarted(p.c.Name)
		close(p.started)
	} else {
		p.requestKill(fmt.Sprintf("Container %s failed startup probe: %s", p.c.Name, msg), probe)
	}
	return false
}

func (p *probeRun) onLiveness(ok bool, msg string, probe *corev1.Probe) bool {
	if ok {
		return true
	}
	p.requestKill(fmt.Sprintf("Container %s failed liveness probe: %s", p.c.Name, msg), probe)
	return false
}

func (p *probeRun) onReadiness(ok bool, msg string, _ *corev1.Probe) bool {
	if p.w.setReady(p.c.Name, ok) {
		p.log.Info("readiness changed", "ready", ok, "output", msg)
	}
	return true
}

// requestKill hands the container loop a kill, unless the pod is being
// stopped anyway.
func (p *probeRun) requestKill(msg string, probe *corev1.Probe) {
	if p.w.stoppingOf(p.c) {
		return
	}
	select {
	case p.kill <- probeKill{msg: msg, grace: probeGrace(p.w.pod, probe)}:
	default:
	}
}

// probeGrace is the probe's terminationGracePeriodSeconds, else the
// pod's, capped at maxProbeKillGrace.
func probeGrace(pod *corev1.Pod, probe *corev1.Probe) time.Duration {
	secs := int64(30)
	if probe.TerminationGracePeriodSeconds != nil {
		secs = *probe.TerminationGracePeriodSeconds
	} else if pod.Spec.TerminationGracePeriodSeconds != nil {
		secs = *pod.Spec.TerminationGracePeriodSeconds
	}
	return min(time.Duration(max(secs, 0))*time.Second, maxProbeKillGrace)
}
