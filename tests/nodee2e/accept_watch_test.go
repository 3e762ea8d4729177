package nodee2e

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
)

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// readinessRecorder watches one pod and its Service's EndpointSlices and
// remembers when the pod was first reported not Ready and when its IP
// first left the ready addresses: transitions too brief for polling.
type readinessRecorder struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex
	notReady time.Time
	left     time.Time
}

func (a *acc) recordReadiness(t *testing.T, svc, pod, ip string) *readinessRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &readinessRecorder{cancel: cancel}
	watch := func(gvr schema.GroupVersionResource, selector string, seen func(map[string]any)) {
		w, err := a.api.Watch(ctx, gvr, "default", listOpts(selector))
		if err != nil {
			cancel()
			t.Fatalf("watch %s: %v", gvr.Resource, err)
		}
		r.wg.Go(func() {
			defer w.Close()
			for {
				ev, err := w.Next()
				if err != nil {
					return
				}
				if ev.Type == client.Added || ev.Type == client.Modified {
					seen(ev.Object.Object)
				}
			}
		})
	}
	watch(gvrPods, "app="+svc, func(obj map[string]any) {
		var p corev1.Pod
		if kruntime.DefaultUnstructuredConverter.FromUnstructured(obj, &p) == nil && p.Name == pod && !podIsReady(&p) {
			r.mark(&r.notReady)
		}
	})
	watch(gvrSlices, "kubernetes.io/service-name="+svc, func(obj map[string]any) {
		var s discoveryv1.EndpointSlice
		if kruntime.DefaultUnstructuredConverter.FromUnstructured(obj, &s) != nil {
			return
		}
		for _, ep := range s.Endpoints {
			for _, addr := range ep.Addresses {
				if addr == ip && ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					return
				}
			}
		}
		r.mark(&r.left)
	})
	t.Cleanup(func() { r.stop() })
	time.Sleep(200 * time.Millisecond) // let both watches open
	return r
}

func (r *readinessRecorder) mark(at *time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at.IsZero() {
		*at = time.Now()
	}
}

// stop ends the watches and returns the first not-Ready report and the
// first slice without the pod's ready address (zero when never seen).
func (r *readinessRecorder) stop() (notReady, left time.Time) {
	r.cancel()
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notReady, r.left
}
