package node

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
	"github.com/weirnet/weir/node/runtime"
)

// lockedRecorder is a PodRuntime that records the last (partial) Sync.
type lockedRecorder struct {
	mu  sync.Mutex
	rec partialRecorder
}

func (r *lockedRecorder) Sync(p []corev1.Pod) { r.mu.Lock(); r.rec.Sync(p); r.mu.Unlock() }
func (r *lockedRecorder) SyncPartial(p []corev1.Pod) {
	r.mu.Lock()
	r.rec.SyncPartial(p)
	r.mu.Unlock()
}
func (r *lockedRecorder) Close() {}

func (r *lockedRecorder) last() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.rec.last, " "), r.rec.partial
}

// TestStaticMirrors: an agent on a real node stream mirrors its static
// pod (the static pod's UID, its reported status), recreates the mirror
// when it is deleted or marked for deletion in the API, never runs the
// mirror it gets back, and deletes the mirror with the manifest.
func TestStaticMirrors(t *testing.T) {
	cp := startControlPlane(t)
	cp.put(t, "namespaces", "", "default", &corev1.Namespace{TypeMeta: metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	os.Mkdir(manifests, 0o755)
	writeFiles(t, manifests, map[string]string{"web.yaml": strings.SplitN(webYAML, "---", 2)[0]})
	a, err := New(Config{Server: cp.addr, BootstrapToken: nodeToken, CAPEM: cp.ca.CertPEM, NodeName: "sn",
		DataDir: dir, UnderlayIface: "lo", Addresses: []string{"127.0.0.1"},
		CNIConfDir: filepath.Join(dir, "net.d"), AgentSocket: filepath.Join(dir, "agent.sock"),
		Dataplane: nopDataplane{}, Routes: nopRoutes{}, ManifestDir: manifests, ManifestPoll: 100 * time.Millisecond,
		Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &lockedRecorder{}
	a.pods = rec
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })

	var static []corev1.Pod
	waitFor(t, "the static pod read", 10*time.Second, func() bool { static = a.static.list(); return len(static) == 1 })
	uid, name := static[0].UID, static[0].Name
	get := func() *corev1.Pod {
		o, err := cp.st.Get(context.Background(), store.Key{Resource: "pods", Namespace: "default", Name: name}, store.ReadOptions{})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		p := &corev1.Pod{}
		json.Unmarshal(o.Value, p)
		return p
	}
	waitFor(t, "the mirror", 10*time.Second, func() bool { p := get(); return p != nil && p.UID == uid && isMirror(p) })
	a.reportPod(runtime.PodReport{Namespace: "default", Name: name, UID: uid, Status: corev1.PodStatus{Phase: corev1.PodRunning}})
	waitFor(t, "the mirror Running", 10*time.Second, func() bool { p := get(); return p != nil && p.Status.Phase == corev1.PodRunning })
	want := name + "/" + string(uid)
	waitFor(t, "a full sync with the static pod only", 10*time.Second, func() bool { got, partial := rec.last(); return got == want && !partial })

	cp.del(t, "pods", "default", name)
	waitFor(t, "the mirror recreated, Running", 10*time.Second, func() bool {
		p := get()
		return p != nil && p.UID == uid && p.Status.Phase == corev1.PodRunning
	})
	p := get()
	now := metav1.Now()
	p.DeletionTimestamp = &now
	cp.put(t, "pods", "default", name, p)
	waitFor(t, "the terminating mirror replaced", 10*time.Second, func() bool { p := get(); return p != nil && p.DeletionTimestamp == nil })
	if got, _ := rec.last(); got != want {
		t.Fatalf("runtime got %s, want only the static pod %s", got, want)
	}

	os.Remove(filepath.Join(manifests, "web.yaml"))
	waitFor(t, "the mirror deleted", 10*time.Second, func() bool { return get() == nil })
	if got, _ := rec.last(); got != "" {
		t.Fatalf("runtime still runs %s", got)
	}
}
