package runtime

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podWorker owns one pod: its sandbox, one loop per container, and its
// status. terminate asks for a graceful stop; the runtime's context ending
// detaches (containers stay).
type podWorker struct {
	r   *Runtime
	pod *corev1.Pod
	sb  *sandbox

	stopOnce    sync.Once
	stop        chan struct{} // closed by the first terminate
	removedOnce sync.Once

	killMu   sync.Mutex
	deadline time.Time     // SIGKILL time; set before stop is closed
	sooner   chan struct{} // closed (and replaced) when a terminate brings deadline forward
	deleted  bool          // terminate was called: the pod is to go (not only stopped at its active deadline)

	// sidecars (sidecar.go): stopped once the app containers ended
	sideStop     chan struct{}
	sideStopOnce sync.Once
	sideDeadline time.Time // their SIGKILL time when the app containers completed (killMu)
	sideWG       sync.WaitGroup

	mu     sync.Mutex
	status corev1.PodStatus
	ctrs   map[string]*ctrState

	// activeDeadlineSeconds (deadline.go): the pod's, changed by Sync
	// (deadlineSet is poked); expired once it passed.
	activeDeadline *int64
	deadlineSet    chan struct{}
	expired        bool

	initialized bool // the init containers completed (sidecars started)

	// reportMu orders snapshot+Report: container loops and probers report
	// concurrently, and an older snapshot must not be delivered last.
	reportMu sync.Mutex
}

func newPodWorker(r *Runtime, pod *corev1.Pod) *podWorker {
	w := &podWorker{r: r, pod: pod, sb: r.newSandbox(pod), stop: make(chan struct{}), sooner: make(chan struct{}), ctrs: map[string]*ctrState{}, sideStop: make(chan struct{}),
		activeDeadline: pod.Spec.ActiveDeadlineSeconds, deadlineSet: make(chan struct{}, 1)}
	// the start time the API has (this node ran the pod before: an agent
	// restart) stays, as the kubelet keeps it; activeDeadlineSeconds
	// counts from it
	start := metav1.Now()
	if pod.Status.StartTime != nil {
		start = *pod.Status.StartTime.DeepCopy()
	}
	w.status = corev1.PodStatus{Phase: corev1.PodPending, StartTime: &start}
	waiting := "ContainerCreating"
	if len(pod.Spec.InitContainers) > 0 {
		waiting = reasonPodInitializing
	}
	for _, c := range pod.Spec.InitContainers {
		w.ctrs[c.Name] = &ctrState{name: c.Name, image: c.Image, init: true, state: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting}}}
	}
	for _, c := range pod.Spec.Containers {
		w.ctrs[c.Name] = &ctrState{name: c.Name, image: c.Image, state: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting}}}
	}
	return w
}

// terminate asks for a graceful stop and the pod's removal: SIGTERM now,
// SIGKILL after grace seconds. A later terminate can only bring the
// SIGKILL forward (a second DELETE with a shorter grace period, or a
// force delete), as the kubelet does.
func (w *podWorker) terminate(grace int64) {
	w.killMu.Lock()
	w.deleted = true
	w.killMu.Unlock()
	w.halt(grace)
}

// halt stops the containers as terminate does; the pod's removal is only
// reported after a terminate.
func (w *podWorker) halt(grace int64) {
	at := time.Now().Add(time.Duration(max(grace, 0)) * time.Second)
	w.killMu.Lock()
	switch {
	case w.deadline.IsZero():
		w.deadline = at
	case at.Before(w.deadline):
		w.deadline = at
		close(w.sooner)
		w.sooner = make(chan struct{})
	}
	w.killMu.Unlock()
	w.stopOnce.Do(func() { close(w.stop) })
}

// killDeadline is the current SIGKILL time of a terminating pod and a
// channel closed when it moves earlier.
func (w *podWorker) killDeadline() (time.Time, <-chan struct{}) {
	w.killMu.Lock()
	defer w.killMu.Unlock()
	return w.deadline, w.sooner
}

func (w *podWorker) isDeleted() bool {
	w.killMu.Lock()
	defer w.killMu.Unlock()
	return w.deleted
}

func (w *podWorker) stopping() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// run sets the sandbox up (retrying with back-off), runs the containers
// and, once terminated, removes everything.
func (w *podWorker) run() {
	ctx := w.r.ctx
	log := w.r.cfg.Logger.With("pod", w.pod.Namespace+"/"+w.pod.Name, "uid", w.pod.UID)
	if w.stopping() {
		// deleted before it ran here: only leftovers (of an earlier agent)
		// to remove, then the removal to report
		w.finish(ctx, log)
		return
	}
	w.report()
	stopDeadline := w.watchDeadline(ctx, log) // stopped before finish: a pod that ended is not failed later
	defer stopDeadline()
	delay := w.r.cfg.BackoffBase
	for {
		err := w.r.setUpOrAdopt(ctx, w.sb, w.pod)
		if err == nil {
			break
		}
		log.Warn("pod sandbox", "error", err)
		w.setSandboxError(err)
		w.sandboxFailed(err)
		if !w.sleep(ctx, delay) {
			stopDeadline()
			w.finish(ctx, log)
			return
		}
		delay = min(2*delay, w.r.cfg.BackoffMax)
	}
	w.mu.Lock()
	w.status.PodIP = w.sb.podIP.String()
	w.status.PodIPs = []corev1.PodIP{{IP: w.status.PodIP}}
	w.mu.Unlock()
	w.report()
	if !w.runInit(ctx, log) {
		w.stopSidecars()
		stopDeadline()
		w.finish(ctx, log)
		return
	}
	var wg sync.WaitGroup
	for i := range w.pod.Spec.Containers {
		c := &w.pod.Spec.Containers[i]
		wg.Add(1)
		go func() { defer wg.Done(); w.containerLoop(ctx, c, log.With("container", c.Name)) }()
	}
	wg.Wait()
	w.stopSidecars()
	stopDeadline()
	w.finish(ctx, log)
}

// finish removes the pod once its containers ended (terminated, or
// completed under restartPolicy Never/OnFailure) and reports it, as
// removed after a terminate; after a detach (Close) it leaves everything
// running.
func (w *podWorker) finish(ctx context.Context, log interface{ Warn(string, ...any) }) {
	if ctx.Err() != nil {
		return
	}
	cctx := context.WithoutCancel(ctx)
	for _, c := range append(append([]corev1.Container(nil), w.pod.Spec.InitContainers...), w.pod.Spec.Containers...) {
		if err := w.r.removeContainer(cctx, containerID(w.sb.id, c.Name)); err != nil {
			log.Warn("remove container", "error", err)
		}
	}
	if err := w.r.tearDown(cctx, w.sb); err != nil {
		log.Warn("pod teardown", "error", err)
	}
	if w.isDeleted() {
		w.reportRemoved()
		return
	}
	w.report()
}

// sleep waits d; false when the pod is being stopped or detached.
func (w *podWorker) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

func (w *podWorker) report() {
	w.reportMu.Lock()
	defer w.reportMu.Unlock()
	w.r.cfg.Report(PodReport{Namespace: w.pod.Namespace, Name: w.pod.Name, UID: w.pod.UID, Status: w.snapshot()})
}

// reportRemoved sends the pod's last report, once: everything of it is
// gone. Called by finish after a terminate, or by Sync for a pod deleted
// after its containers had completed (and been removed).
func (w *podWorker) reportRemoved() {
	w.removedOnce.Do(func() {
		w.reportMu.Lock()
		defer w.reportMu.Unlock()
		w.r.cfg.Report(PodReport{Namespace: w.pod.Namespace, Name: w.pod.Name, UID: w.pod.UID, Status: w.snapshot(), Removed: true})
	})
}
