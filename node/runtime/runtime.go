package runtime

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Runtime runs the node's pods. Create with New; Sync with the desired
// pods; Close when done.
type Runtime struct {
	cfg         Config
	client      *containerd.Client
	net         *network
	cgroupMount string
	cgroupRel   string
	ctx         context.Context // namespaced; cancelled by Close (detach, containers stay)
	cancel      context.CancelFunc

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	done    map[types.UID]*podWorker // ended, not detached: never run again
	synced  bool
	wg      sync.WaitGroup
	closed  bool

	pulls pulls // image pulls under way, shared by the pods waiting for them

	logMu sync.Mutex
	logs  map[*logIO]struct{} // containers' stdio the agent copies into their logs
	logWG sync.WaitGroup
}

// New connects to containerd; it starts nothing until Sync.
func New(cfg Config) (*Runtime, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	mount, rel, err := cgroupPaths(cfg.CgroupRoot)
	if err != nil {
		return nil, err
	}
	client, err := containerd.New(cfg.Address, containerd.WithDefaultNamespace(cfg.Namespace))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s (is it running?): %w", cfg.Address, err)
	}
	ctx, cancel := context.WithCancel(namespaces.WithNamespace(context.Background(), cfg.Namespace))
	if _, err := client.Version(ctx); err != nil {
		cancel()
		client.Close()
		return nil, fmt.Errorf("containerd at %s does not answer (is it running?): %w", cfg.Address, err)
	}
	r := &Runtime{cfg: cfg, client: client, net: newNetwork(cfg, filepath.Join(cfg.DataDir, "cni-cache")),
		cgroupMount: mount, cgroupRel: rel, ctx: ctx, cancel: cancel, workers: map[types.UID]*podWorker{}, done: map[types.UID]*podWorker{},
		logs: map[*logIO]struct{}{}}
	r.removeStaleLogFIFOs(ctx)
	return r, nil
}

// Close stops following the pods and waits for the workers; containers
// and networks stay (a new Runtime adopts them). Idempotent.
func (r *Runtime) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	r.detachLogs()
	r.client.Close()
}

// Import loads an OCI or docker image archive into the node's namespace
// and unpacks it; it returns the image names.
func (r *Runtime) Import(ctx context.Context, archive io.Reader) ([]string, error) {
	return importArchive(namespaces.WithNamespace(ctx, r.cfg.Namespace), r.client, r.cfg.Snapshotter, archive)
}

// Sync makes the running pods match pods (the pods bound to this node).
// Pods with a deletionTimestamp, and known pods missing from the list, are
// stopped gracefully and reported removed. A pod whose containers
// completed, or that the API has in a terminal phase, is not run again.
// The first Sync also removes leftovers of pods that are no longer wanted
// (found by their containerd labels).
func (r *Runtime) Sync(pods []corev1.Pod) { r.sync(pods, true) }

// SyncPartial is Sync with a list known to be incomplete (a node's static
// pods before the control plane delivered the others): containers of
// pods missing from it are not removed as leftovers.
func (r *Runtime) SyncPartial(pods []corev1.Pod) { r.sync(pods, false) }

func (r *Runtime) sync(pods []corev1.Pod, complete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	want := map[types.UID]*corev1.Pod{}
	for i := range pods {
		p := &pods[i]
		if p.UID == "" || p.Spec.NodeName != "" && p.Spec.NodeName != r.cfg.NodeName {
			continue
		}
		want[p.UID] = p
		r.syncPod(p)
	}
	for uid, w := range r.workers {
		if want[uid] == nil {
			w.terminate(gracePeriod(w.pod))
		}
	}
	for uid := range r.done {
		if want[uid] == nil {
			delete(r.done, uid)
		}
	}
	if complete && !r.synced {
		r.synced = true
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.removeOrphans(want) }()
	}
}

// syncPod starts, stops or reports one wanted pod (r.mu held). A pod
// deleted before a worker ran it still gets one, already terminated: it
// removes what an earlier agent left and reports the pod removed.
func (r *Runtime) syncPod(p *corev1.Pod) {
	deleting := p.DeletionTimestamp != nil
	if w, ok := r.workers[p.UID]; ok {
		if deleting {
			w.terminate(gracePeriod(p))
		} else if r.cfg.Volumes != nil {
			r.cfg.Volumes.Update(p)
		}
		w.setActiveDeadline(p.Spec.ActiveDeadlineSeconds)
		return
	}
	if w, ok := r.done[p.UID]; ok {
		if deleting {
			w.reportRemoved()
		}
		return
	}
	terminal := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	if terminal && !deleting {
		return
	}
	r.startWorker(p.DeepCopy(), deleting)
}

// startWorker runs a worker for pod; a stopped one only cleans up.
func (r *Runtime) startWorker(pod *corev1.Pod, stopped bool) {
	w := newPodWorker(r, pod)
	if stopped {
		w.terminate(0)
	}
	r.workers[pod.UID] = w
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		w.run()
		r.mu.Lock()
		delete(r.workers, pod.UID)
		if r.ctx.Err() == nil {
			r.done[pod.UID] = w
		}
		r.mu.Unlock()
	}()
}

// Status is the latest status of a pod the runtime runs.
func (r *Runtime) Status(uid types.UID) (corev1.PodStatus, bool) {
	r.mu.Lock()
	w := r.workers[uid]
	r.mu.Unlock()
	if w == nil {
		return corev1.PodStatus{}, false
	}
	return w.snapshot(), true
}

// Pods is the number of pods with a worker (running or terminating).
func (r *Runtime) Pods() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.workers)
}

func gracePeriod(p *corev1.Pod) int64 {
	if p.DeletionGracePeriodSeconds != nil {
		return *p.DeletionGracePeriodSeconds
	}
	if p.Spec.TerminationGracePeriodSeconds != nil {
		return *p.Spec.TerminationGracePeriodSeconds
	}
	return 30
}
