package node

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

const webYAML = `# the web server
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  hostNetwork: true
  containers:
  - name: web
    image: weir/testimage:1
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: kube-system
spec:
  containers:
  - name: db
    image: weir/testimage:1
    args: ["-udp-echo="]
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestReadManifestDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml":       webYAML,
		"b.json":       `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"api"},"spec":{"containers":[{"name":"c","image":"x"}]}}`,
		".hidden.yaml": `apiVersion: v1` + "\nkind: Pod\nmetadata: {name: hidden}\nspec: {containers: [{name: c, image: x}]}\n",
		"bad.yaml":     "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
		"cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
		"mixed.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: c, image: x}]}\n---\n" +
			"apiVersion: v1\nkind: Pod\nmetadata: {name: empty}\nspec: {containers: []}\n",
		"typo.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec: {containerz: [{name: c, image: x}]}\n",
		"dup.yaml":  "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: other}]}\n",
	})
	pods, errs, err := newManifestDir(dir, "n1").poll()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods {
		names = append(names, p.Namespace+"/"+p.Name)
		if p.Spec.NodeName != "n1" || !uuidRE.MatchString(string(p.UID)) || p.Annotations[AnnotationConfigSource] != "file" ||
			len(p.Annotations[AnnotationConfigHash]) != 32 || isMirror(&p) {
			t.Errorf("pod %s: nodeName %q uid %q annotations %v", p.Name, p.Spec.NodeName, p.UID, p.Annotations)
		}
		if p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Spec.DNSPolicy != corev1.DNSClusterFirst || *p.Spec.TerminationGracePeriodSeconds != 30 {
			t.Errorf("pod %s: defaults not applied: %+v", p.Name, p.Spec)
		}
	}
	if got := strings.Join(names, " "); got != "default/api-n1 default/web-n1 kube-system/db-n1" {
		t.Errorf("static pods %s", got)
	}
	if len(errs) != 5 {
		t.Errorf("%d errors, want 5 (bad, cm, mixed (its empty pod), typo, dup): %v", len(errs), errs)
	}
	for _, want := range []string{"bad.yaml", "cm.yaml: 1 object(s) that are not v1 Pods", "mixed.yaml: pod \"empty\": spec.containers: at least one",
		"typo.yaml: document 1", "containerz", "dup.yaml: pod default/web-n1 is already defined in"} {
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e.Error(), want)
		}
		if !found {
			t.Errorf("no error mentions %q: %v", want, errs)
		}
	}

	if pods, errs, err := newManifestDir(filepath.Join(dir, "missing"), "n1").poll(); len(pods) != 0 || len(errs) != 0 || err != nil {
		t.Errorf("missing dir: %v %v %v, want nothing", pods, errs, err)
	}
}

func TestStaticPodUID(t *testing.T) {
	uid := func(data, node string) (string, string) {
		t.Helper()
		pods, err := decodeStaticPods([]byte(data), node)
		if err != nil || len(pods) != 2 {
			t.Fatalf("decode: %v %v", pods, err)
		}
		return string(pods[0].UID), pods[0].Annotations[AnnotationConfigHash]
	}
	u1, h1 := uid(webYAML, "n1")
	if u2, h2 := uid(webYAML, "n1"); u2 != u1 || h2 != h1 {
		t.Errorf("the same manifest read twice: %s %s, then %s %s", u1, h1, u2, h2)
	}
	if u, _ := uid("# reformatted\n"+strings.ReplaceAll(webYAML, "{app: web}", "\n    app: web"), "n1"); u != u1 {
		t.Errorf("comments and formatting changed the UID: %s -> %s", u1, u)
	}
	if u, _ := uid(webYAML, "n2"); u == u1 {
		t.Error("two nodes derive the same UID")
	}
	if u, h := uid(strings.Replace(webYAML, "image: weir/testimage", "image: weir/other", 1), "n1"); u == u1 || h == h1 {
		t.Error("a changed pod kept its UID and hash")
	}
	pods, _ := decodeStaticPods([]byte(webYAML), "n1")
	if pods[0].UID == pods[1].UID {
		t.Error("two pods of one file share a UID")
	}
	m := mirrorOf(pods[0], corev1.PodStatus{Phase: corev1.PodRunning})
	if !isMirror(&m) || m.Annotations[AnnotationConfigMirror] != pods[0].Annotations[AnnotationConfigHash] || m.UID != pods[0].UID || isMirror(&pods[0]) {
		t.Errorf("mirror %+v of %+v", m.ObjectMeta, pods[0].ObjectMeta)
	}
}

func TestStaticNameTooLong(t *testing.T) {
	long := strings.Repeat("a", 251) // + "-n1": 254
	_, err := decodeStaticPods([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: "+long+"}\nspec: {containers: [{name: c, image: x}]}\n"), "n1")
	if err == nil || !strings.Contains(err.Error(), "is invalid") {
		t.Fatalf("a name over 253 characters: %v", err)
	}
}

// partialRecorder is a PodRuntime that tells Sync from SyncPartial.
type partialRecorder struct {
	last    []string
	partial bool
}

func (r *partialRecorder) Sync(pods []corev1.Pod)        { r.record(pods, false) }
func (r *partialRecorder) SyncPartial(pods []corev1.Pod) { r.record(pods, true) }
func (r *partialRecorder) Close()                        {}

func (r *partialRecorder) record(pods []corev1.Pod, partial bool) {
	r.last, r.partial = nil, partial
	for _, p := range pods {
		r.last = append(r.last, p.Name+"/"+string(p.UID))
	}
}

// TestSyncPodsWithStatic: static pods run before the stream delivered any
// pod (a partial sync: nothing else is removed), then together with the
// stream's pods; mirrors from the stream are never run themselves.
func TestSyncPodsWithStatic(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": webYAML})
	rec := &partialRecorder{}
	netd := t.TempDir()
	a := &Agent{cfg: Config{NodeName: "n1", ManifestDir: dir, CNIConfDir: netd}, log: slog.New(slog.DiscardHandler), state: NewState(), reports: newPodReports(), pods: rec, static: newStaticPods()}
	a.refreshStatic()
	uids := map[string]string{}
	for _, p := range a.static.list() {
		uids[p.Name] = string(p.UID)
	}
	if len(uids) != 2 || !rec.partial || len(rec.last) != 1 || rec.last[0] != "web-n1/"+uids["web-n1"] {
		t.Fatalf("before the stream and the CNI config: runtime got %v (partial %v), want the hostNetwork static pod in a partial sync", rec.last, rec.partial)
	}
	writeFiles(t, netd, map[string]string{CNIConfName: "{}"})
	a.state.pods["default/web-n1"] = mirrorOf(a.static.list()[0], corev1.PodStatus{})
	a.state.pods["default/app"] = corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "app", UID: "u-app"}, Spec: corev1.PodSpec{NodeName: "n1"}}
	a.state.Versions[pb.Kind_KIND_PODS] = 7
	a.syncPods()
	want := "app/u-app web-n1/" + uids["web-n1"] + " db-n1/" + uids["db-n1"]
	if got := strings.Join(rec.last, " "); got != want || rec.partial {
		t.Fatalf("runtime got %s (partial %v), want %s in a full sync", got, rec.partial, want)
	}

	// db's document goes: db stops; a changed web gets a new UID.
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(strings.SplitN(webYAML, "---", 2)[0]), 0o644)
	a.refreshStatic() // changed: used once settled
	if len(rec.last) != 3 {
		t.Fatalf("an unsettled change was applied: %v", rec.last)
	}
	a.refreshStatic()
	if got := strings.Join(rec.last, " "); got != "app/u-app web-n1/"+uids["web-n1"] {
		t.Fatalf("after db's removal: %s", got)
	}
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(strings.Replace(webYAML, "weir/testimage", "weir/v2", 1)), 0o644)
	a.refreshStatic()
	a.refreshStatic()
	if len(rec.last) != 3 || rec.last[1] == "web-n1/"+uids["web-n1"] || rec.last[2] != "db-n1/"+uids["db-n1"] {
		t.Fatalf("a changed manifest kept the pod's UID: %v", rec.last)
	}
}

// TestManifestDirSettles: changes are used once a file has settled; a file
// caught half-written, or broken, keeps its last good pods; a new file
// waits one poll; a removed file's pods go at once.
func TestManifestDirSettles(t *testing.T) {
	dir := t.TempDir()
	web := strings.SplitN(webYAML, "---", 2)[0]
	writeFiles(t, dir, map[string]string{"web.yaml": web})
	d := newManifestDir(dir, "n1")
	poll := func(what string, wantErrs int) []string {
		t.Helper()
		pods, errs, err := d.poll()
		if err != nil || len(errs) != wantErrs {
			t.Fatalf("%s: errors %v %v, want %d", what, errs, err, wantErrs)
		}
		var out []string
		for _, p := range pods {
			out = append(out, p.Name+"/"+string(p.UID))
		}
		return out
	}
	first := poll("first read", 0)
	if len(first) != 1 {
		t.Fatalf("first read: %v", first)
	}
	writeFiles(t, dir, map[string]string{"web.yaml": strings.Replace(web, "weir/testimage", "weir/v2", 1)})
	if got := poll("changed", 0); got[0] != first[0] {
		t.Fatalf("an unsettled change was used: %v", got)
	}
	second := poll("settled", 0)
	if second[0] == first[0] {
		t.Fatalf("the settled change was not used: %v", second)
	}
	writeFiles(t, dir, map[string]string{"web.yaml": web[:len(web)/2]}) // half-written
	if got := poll("half-written", 0); got[0] != second[0] {
		t.Fatalf("a half-written file was used: %v", got)
	}
	if got := poll("broken and settled", 1); len(got) != 1 || got[0] != second[0] {
		t.Fatalf("a broken file lost its last good pod: %v", got)
	}
	writeFiles(t, dir, map[string]string{"new.yaml": strings.Replace(web, "name: web", "name: new", 1)})
	if got := poll("new file", 1); len(got) != 1 {
		t.Fatalf("an unsettled new file was used: %v", got)
	}
	if got := poll("new file settled", 1); len(got) != 2 {
		t.Fatalf("a settled new file was not used: %v", got)
	}
	os.Remove(filepath.Join(dir, "web.yaml"))
	if got := poll("removed", 0); len(got) != 1 || !strings.HasPrefix(got[0], "new-n1/") {
		t.Fatalf("after web.yaml's removal: %v", got)
	}
}
