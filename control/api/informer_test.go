package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// requestLog records the list and watch requests a client makes.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			l.mu.Lock()
			l.reqs = append(l.reqs, r.URL.Path+"?"+r.URL.RawQuery)
			l.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

// TestClientGoInformersSync runs client-go's SharedInformerFactory (default
// feature gates: WatchList) against weir's API with 200 Services and 200
// Pods: the caches sync through WatchList streams (no fallback list) within
// 2 s, and an update reaches the informer within 100 ms.
// The client speaks protobuf, as client-go does by default for built-in
// kinds.
func TestClientGoInformersSync(t *testing.T) {
	e := newEnv(t)
	log := &requestLog{}
	hs := httptest.NewServer(log.wrap(e.server.Handler()))
	t.Cleanup(hs.Close)
	cfg := &rest.Config{Host: hs.URL, BearerToken: testToken, QPS: 1000, Burst: 1000,
		ContentConfig: rest.ContentConfig{ContentType: runtime.ContentTypeProtobuf}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%03d", i)},
					Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
				if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create service %d: %w", i, err)
					return
				}
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%03d", i), Labels: map[string]string{"app": "x"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
				if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create pod %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactory(cs, 0)
	svcs := factory.Core().V1().Services()
	pods := factory.Core().V1().Pods()
	pods.Informer() // registers it with the factory
	updated := make(chan time.Time, 16)
	if _, err := svcs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if s := obj.(*corev1.Service); s.Name == "svc-042" && s.Labels["touched"] == "yes" {
				updated <- time.Now()
			}
		},
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer func() {
		close(stop)
		factory.Shutdown()
	}()
	start := time.Now()
	factory.Start(stop)
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}
	synced := time.Since(start)
	if synced > 2*time.Second {
		t.Fatalf("caches synced after %v, want within 2s", synced)
	}
	if got, _ := svcs.Lister().Services("default").List(everything()); len(got) < n {
		t.Fatalf("service cache holds %d, want >= %d", len(got), n)
	}
	if got, _ := pods.Lister().Pods("default").List(everything()); len(got) != n {
		t.Fatalf("pod cache holds %d, want %d", len(got), n)
	}
	// the caches came from WatchList streams, with no fallback list
	var watchLists int
	for _, r := range log.all() {
		if !strings.Contains(r, "watch=") {
			if strings.HasSuffix(strings.SplitN(r, "?", 2)[0], "/services") || strings.HasSuffix(strings.SplitN(r, "?", 2)[0], "/pods") {
				t.Fatalf("informer fell back to a list: %s", r)
			}
			continue
		}
		if strings.Contains(r, "sendInitialEvents=true") && strings.Contains(r, "resourceVersionMatch=NotOlderThan") && strings.Contains(r, "allowWatchBookmarks=true") {
			watchLists++
		}
	}
	if watchLists < 2 {
		t.Fatalf("%d WatchList requests, want one per informer: %v", watchLists, log.all())
	}

	svc, err := cs.CoreV1().Services("default").Get(ctx, "svc-042", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Labels = map[string]string{"touched": "yes"}
	sent := time.Now()
	if _, err := cs.CoreV1().Services("default").Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-updated:
		if d := got.Sub(sent); d > 100*time.Millisecond {
			t.Fatalf("update reached the informer after %v, want within 100ms", d)
		}
		t.Logf("caches synced in %v; update seen after %v", synced, got.Sub(sent))
	case <-time.After(10 * time.Second):
		t.Fatal("the informer never saw the update")
	}
}

func everything() labels.Selector { return labels.Everything() }
