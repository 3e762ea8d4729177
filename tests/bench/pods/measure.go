package pods

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/node/runtime/testimage"
)

const benchApp = "weirbench-pods"

var gvrPods = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// sample is one pod's timeline on the client's clock (zero: not seen).
type sample struct {
	Node                      string
	UID                       string
	Created, Bound, IP, Ready time.Time
	Ctrd                      ctrdSample // the pod's container in containerd
}

// timeline collects the first time each pod was seen in each state.
type timeline struct {
	mu   sync.Mutex
	pods map[string]*sample
}

func (tl *timeline) get(name string) *sample {
	if tl.pods[name] == nil {
		tl.pods[name] = &sample{}
	}
	return tl.pods[name]
}

func (tl *timeline) observe(p *corev1.Pod, at time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := tl.get(p.Name)
	first := func(t *time.Time, cond bool) {
		if cond && t.IsZero() {
			*t = at
		}
	}
	first(&s.Bound, p.Spec.NodeName != "")
	first(&s.IP, p.Status.PodIP != "")
	first(&s.Ready, podReady(p))
	if p.Spec.NodeName != "" {
		s.Node = p.Spec.NodeName
	}
	s.UID = string(p.UID)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
		}
	}
	return false
}

// measure watches the bench pods, creates them at cfg.Rate and waits until
// every one is Ready (or a deadline passes).
func measure(ctx context.Context, api *client.Client, ct *ctrdTimes, cfg Config) ([]sample, error) {
	tl := &timeline{pods: map[string]*sample{}}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w, err := api.Watch(wctx, gvrPods, "default", client.ListOptions{LabelSelector: "app=" + benchApp})
	if err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() {
		defer w.Close()
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			at := time.Now()
			var p corev1.Pod
			if ev.Type != client.Bookmark && kruntime.DefaultUnstructuredConverter.FromUnstructured(ev.Object.Object, &p) == nil {
				tl.observe(&p, at)
			}
		}
	})
	start := time.Now()
	for i := 0; i < cfg.Pods; i++ {
		if cfg.Rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))))
		}
		name := fmt.Sprintf("%s-%03d", benchApp, i)
		obj, err := podObject(name)
		if err != nil {
			return nil, err
		}
		tl.mu.Lock()
		tl.get(name).Created = time.Now()
		tl.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = api.Create(cctx, gvrPods, "default", obj)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("create pod %s: %w", name, err)
		}
	}
	fmt.Fprintf(cfg.Log, "created %d pods in %v\n", cfg.Pods, time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(120 * time.Second)
	for ready := 0; ; time.Sleep(100 * time.Millisecond) {
		tl.mu.Lock()
		ready = 0
		for _, s := range tl.pods {
			if !s.Ready.IsZero() {
				ready++
			}
		}
		tl.mu.Unlock()
		if ready == cfg.Pods {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("only %d of %d pods became Ready within 120 s of the last create; the agents' logs are in the cluster's data dir", ready, cfg.Pods)
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := make([]sample, 0, len(tl.pods))
	for _, s := range tl.pods {
		s.Ctrd = ct.get(s.UID + "-web") // the runtime's container ID: pod UID-container name
		out = append(out, *s)
	}
	return out, nil
}

// podObject is a bare pod of the test server, no probes.
func podObject(name string) (*unstructured.Unstructured, error) {
	grace := int64(1)
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": benchApp}},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "web", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
				Args: []string{"-udp-echo=", "-tcp-echo="}}}}}
	m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(p)
	if err != nil {
		return nil, fmt.Errorf("encode pod %s: %w", name, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}
