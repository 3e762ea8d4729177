package controllers_test

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

func podTemplate(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}
}

func int32p(v int32) *int32 { return &v }

// TestReplicaSet: pods are created from the template with an owner
// reference, status follows readiness, scale-down keeps the ready pods,
// and deleting the ReplicaSet lets the garbage collector remove its pods.
func TestReplicaSet(t *testing.T) {
	c := start(t)
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{Kind: "ReplicaSet", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: int32p(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate("web", "busybox")},
	}
	if err := into(rs)(c.AppsV1().ReplicaSets("default").Create(bg, rs, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		pods := listPods(t, c, "default")
		if len(pods) != 3 {
			return fmt.Sprintf("%d pods, want 3", len(pods))
		}
		for _, p := range pods {
			if r := p.OwnerReferences; len(r) != 1 || r[0].UID != rs.UID || r[0].Controller == nil || !*r[0].Controller {
				return fmt.Sprintf("pod %s owners %+v", p.Name, r)
			}
		}
		return ""
	})
	pods := listPods(t, c, "default")
	for i := range 2 {
		if err := setPodStatus(c, &pods[i], corev1.PodRunning, true, fmt.Sprintf("10.0.0.%d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, func() string {
		var got appsv1.ReplicaSet
		if err := into(&got)(c.AppsV1().ReplicaSets("default").Get(bg, "web", metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		if s := got.Status; s.Replicas != 3 || s.ReadyReplicas != 2 || s.AvailableReplicas != 2 {
			return fmt.Sprintf("status %+v", s)
		}
		return ""
	})
	if err := into(rs)(c.AppsV1().ReplicaSets("default").Get(bg, "web", metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	rs.Spec.Replicas = int32p(2)
	if err := into(rs)(c.AppsV1().ReplicaSets("default").Update(bg, rs, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		pods := listPods(t, c, "default")
		readyN := 0
		for i := range pods {
			if ready(&pods[i]) {
				readyN++
			}
		}
		if len(pods) != 2 || readyN != 2 {
			return fmt.Sprintf("%d pods (%d ready), want the 2 ready ones", len(pods), readyN)
		}
		return ""
	})
	eventually(t, func() string { return findEvent(c, "default", "web", "SuccessfulDelete") })
	if err := c.AppsV1().ReplicaSets("default").Delete(bg, "web", delOpts("")); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if n := len(listPods(t, c, "default")); n != 0 {
			return fmt.Sprintf("%d orphan pods left", n)
		}
		return ""
	})
}

// TestReplicaSetCreatesEachPodOnce: with informers that see every watch
// event 400ms late, a ReplicaSet scaled to 60 creates exactly 60 pods,
// though its reconciles run while the cache has not shown its own
// creations yet (creation expectations hold it back), and a scale-down to
// 10 deletes exactly 50.
func TestReplicaSetCreatesEachPodOnce(t *testing.T) {
	cfg := kubetest.NewConfig(t)
	c, err := kube.NewClientset(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	lagging := rest.CopyConfig(cfg)
	lagging.Wrap(func(rt http.RoundTripper) http.RoundTripper { return lagWatches{rt, 400 * time.Millisecond} })
	lc, err := kube.NewClientset(lagging, "lagging-informers")
	if err != nil {
		t.Fatal(err)
	}
	f := kube.NewInformerFactory(lc)
	t.Cleanup(f.Shutdown) // after the manager stopped (cleanups run last first)
	runManager(t, controllers.New(controllers.Config{Client: c, Informers: f, Logger: storetest.Logger(), Resync: 200 * time.Millisecond}))
	w, err := c.CoreV1().Pods("default").Watch(bg, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var added, deleting atomic.Int32
	go func() {
		seen := map[types.UID]bool{}
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			switch {
			case ev.Type == watch.Added:
				added.Add(1)
			case (ev.Type == watch.Modified && p.DeletionTimestamp != nil || ev.Type == watch.Deleted) && !seen[p.UID]:
				seen[p.UID] = true
				deleting.Add(1)
			}
		}
	}()
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "many", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: int32p(60), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "many"}},
			Template: podTemplate("many", "busybox")}}
	rs, err = c.AppsV1().ReplicaSets("default").Create(bg, rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if n := len(listPods(t, c, "default")); n != 60 {
			return fmt.Sprintf("%d pods, want 60", n)
		}
		return ""
	})
	time.Sleep(time.Second) // further rounds (the pods' events, status) create nothing more
	if n := added.Load(); n != 60 {
		t.Fatalf("%d pods created, want 60", n)
	}
	eventually(t, func() string {
		cur, err := c.AppsV1().ReplicaSets("default").Get(bg, "many", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		cur.Spec.Replicas = int32p(10)
		if _, err := c.AppsV1().ReplicaSets("default").Update(bg, cur, metav1.UpdateOptions{}); err != nil {
			return err.Error()
		}
		return ""
	})
	eventually(t, func() string {
		active := 0
		for _, p := range listPods(t, c, "default") {
			if p.DeletionTimestamp == nil {
				active++
			}
		}
		if active != 10 {
			return fmt.Sprintf("%d active pods, want 10", active)
		}
		return ""
	})
	time.Sleep(time.Second)
	if n, d := added.Load(), deleting.Load(); n != 60 || d != 50 {
		t.Fatalf("%d pods created and %d deleted, want 60 and 50", n, d)
	}
}

// lagWatches delivers the bytes of watch responses lag after they
// arrived (latency, not a throughput limit), so that informers run
// behind the API.
type lagWatches struct {
	rt  http.RoundTripper
	lag time.Duration
}

func (l lagWatches) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil || req.URL.Query().Get("watch") != "true" {
		return resp, err
	}
	chunks := make(chan lagChunk, 4096)
	body := resp.Body
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := body.Read(buf)
			if n > 0 {
				chunks <- lagChunk{at: time.Now(), data: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	resp.Body = &lagBody{chunks: chunks, lag: l.lag, body: body}
	return resp, nil
}

type lagChunk struct {
	at   time.Time
	data []byte
}

type lagBody struct {
	chunks chan lagChunk
	lag    time.Duration
	body   io.ReadCloser
	rest   []byte
}

func (b *lagBody) Read(p []byte) (int, error) {
	if len(b.rest) == 0 {
		c, ok := <-b.chunks
		if !ok {
			return 0, io.EOF
		}
		time.Sleep(time.Until(c.at.Add(b.lag)))
		b.rest = c.data
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func (b *lagBody) Close() error { return b.body.Close() }
