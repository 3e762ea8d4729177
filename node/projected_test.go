package node

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apiserver/pkg/authentication/authenticator"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store/storetest"
)

func readLink(t *testing.T, p string) string {
	t.Helper()
	s, err := os.Readlink(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWriteAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	now := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	if err := writeAtomic(dir, map[string]file{"token": {[]byte("t1"), 0o644}, "ca.crt": {[]byte("ca"), 0o600}, "sub/x": {[]byte("x"), 0o644}}, now); err != nil {
		t.Fatal(err)
	}
	first := readLink(t, filepath.Join(dir, "..data"))
	if !strings.HasPrefix(first, "..2026_12_07_11_00_00.") || readLink(t, filepath.Join(dir, "token")) != "..data/token" {
		t.Fatalf("layout: ..data -> %s", first)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "token")); string(b) != "t1" {
		t.Fatalf("token %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "x")); string(b) != "x" {
		t.Fatalf("sub/x %q", b)
	}
	if st, _ := os.Stat(filepath.Join(dir, "ca.crt")); st.Mode().Perm() != 0o600 {
		t.Fatalf("ca.crt mode %v", st.Mode())
	}
	// A rewrite swaps ..data, drops files no longer projected and the old set.
	if err := writeAtomic(dir, map[string]file{"token": {[]byte("t2"), 0o644}, "ca.crt": {[]byte("ca"), 0o600}}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "token")); string(b) != "t2" {
		t.Fatalf("token after rewrite %q", b)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 4 || readLink(t, filepath.Join(dir, "..data")) == first {
		t.Fatalf("after rewrite: %v", names)
	}
	for _, bad := range []string{"../escape", "/abs", "..data"} {
		if err := writeAtomic(dir, map[string]file{bad: {nil, 0o644}}, now); err == nil {
			t.Errorf("path %q accepted", bad)
		}
	}
}

func TestAPIAddrs(t *testing.T) {
	port := int32(6443)
	sl := []discoveryv1.EndpointSlice{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes",
		Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		Ports: []discoveryv1.EndpointPort{{Port: &port}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.1"}, Conditions: discoveryv1.EndpointConditions{Ready: new(false)}},
			{Addresses: []string{"192.0.2.2"}, Conditions: discoveryv1.EndpointConditions{Ready: new(true)}}}}}
	got := strings.Join(apiAddrs(sl, "192.0.2.2:9443,192.0.2.9:9443"), ",")
	if got != "192.0.2.2:6443,192.0.2.1:6443,192.0.2.9:6443" {
		t.Fatalf("apiAddrs %s", got)
	}
}

// TestProjectorAgainstAPI materializes a pod's kube-api-access volume
// from a real API server with ServiceAccount tokens on (TLS with the
// cluster CA, as the agent sees a member): the token authenticates as the
// pod's ServiceAccount, ca.crt and namespace are there, and the refresher
// swaps in a new token until the pod is torn down.
func TestProjectorAgainstAPI(t *testing.T) {
	st := storetest.New(t)
	tokens := &api.ServiceAccountTokens{Keys: satoken.NewKeys(st)}
	authn, err := api.ServiceAccountAuthenticator(st, tokens)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := nodestream.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := ca.Signer()
	caPool := x509.NewCertPool()
	caPool.AddCert(caCert)
	srv, err := api.New(api.Config{Store: st, Token: "node-token", Logger: storetest.Logger(), ServiceAccountTokens: tokens,
		Authenticators: []authenticator.Request{authn}, ClientCAs: func() *x509.CertPool { return caPool }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := srv.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServing("api", "kubernetes.default.svc", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}, ClientAuth: tls.RequestClientCert}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	call := func(tok, method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		return res.StatusCode, b.Bytes()
	}
	fsGroup := 2000 // any group as root; else one the test's user may give files to
	if os.Getuid() != 0 {
		fsGroup = os.Getgid()
	}
	for _, p := range [][2]string{{"/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"default"}}`},
		{"/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"kube-root-ca.crt"},"data":{"ca.crt":"THE CA"}}`},
		{"/api/v1/namespaces/default/pods", fmt.Sprintf(`{"metadata":{"name":"p1"},"spec":{"securityContext":{"fsGroup":%d},"containers":[{"name":"c","image":"i"}]}}`, fsGroup)}} {
		if code, b := call("node-token", "POST", p[0], p[1]); code != 201 {
			t.Fatalf("POST %s: %d %s", p[0], code, b)
		}
	}
	var pod corev1.Pod
	_, b := call("node-token", "GET", "/api/v1/namespaces/default/pods/p1", "")
	if err := json.Unmarshal(b, &pod); err != nil {
		t.Fatal(err)
	}

	// The projector calls the API with the node's client certificate.
	nodeCert, err := ca.NodeClientCert("n1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := newProjector(&apiClient{base: nodeAPIConfig(func() (*tls.Certificate, error) { return nodeCert, nil }, ca.Pool), addrs: func() []string { return []string{hs.Listener.Addr().String()} }},
		storetest.Logger())
	defer p.close()
	dir := t.TempDir()
	vols, err := p.SetUp(ctx, &pod, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(vols) != 1 || len(pod.Spec.Volumes) != 1 || vols[pod.Spec.Volumes[0].Name] == "" {
		t.Fatalf("volumes %v for %+v", vols, pod.Spec.Volumes)
	}
	vdir := vols[pod.Spec.Volumes[0].Name]
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(vdir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if read("ca.crt") != "THE CA" || read("namespace") != "default" {
		t.Fatalf("ca.crt %q namespace %q", read("ca.crt"), read("namespace"))
	}
	// fsGroup: the files are the group's and group-readable (the
	// kubelet's read-only volume permissions), directories setgid.
	for _, name := range []string{"token", "ca.crt", "..data"} {
		fi, err := os.Stat(filepath.Join(vdir, name))
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o440)
		if fi.IsDir() {
			want = 0o550 | os.ModeSetgid
		}
		if gid := fi.Sys().(*syscall.Stat_t).Gid; int(gid) != fsGroup || fi.Mode()&want != want {
			t.Errorf("%s: gid %d mode %v, want the fsGroup %d and %v", name, gid, fi.Mode(), fsGroup, want)
		}
	}
	tok := read("token")
	whoami := func(tok string) authnv1.UserInfo {
		code, b := call(tok, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
		var r authnv1.SelfSubjectReview
		if code != 201 || json.Unmarshal(b, &r) != nil {
			t.Fatalf("whoami: %d %s", code, b)
		}
		return r.Status.UserInfo
	}
	if u := whoami(tok); u.Username != "system:serviceaccount:default:default" || u.Extra[api.ExtraPodUID][0] != string(pod.UID) {
		t.Fatalf("whoami %+v", u)
	}
	if c, _ := satoken.Parse(tok); c.Expiry-c.IssuedAt != api.TokenExpirationSeconds {
		t.Fatalf("token lifetime %d", c.Expiry-c.IssuedAt)
	}

	// The refresher (started here with a short first delay) swaps tokens.
	p.startRefresh(pod.DeepCopy(), dir, pod.Spec.Volumes, 50*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for read("token") == tok {
		if time.Now().After(deadline) {
			t.Fatal("the token was not refreshed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	whoami(read("token"))

	// A configMap volume follows its ConfigMap: an edit swaps the file
	// in, keeping the item's mode; a Secret volume and env read the same
	// followed objects.
	if code, b := call("node-token", "POST", "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"app"},"data":{"k":"v1","x":"y"}}`); code != 201 {
		t.Fatalf("POST configmap: %d %s", code, b)
	}
	if code, b := call("node-token", "POST", "/api/v1/namespaces/default/secrets", `{"metadata":{"name":"sec"},"data":{"pw":"czNjcjN0"}}`); code != 201 {
		t.Fatalf("POST secret: %d %s", code, b)
	}
	m440 := int32(0o440)
	local := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "local", Namespace: "default", UID: "local-1"}, Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "app"}, Items: []corev1.KeyToPath{{Key: "k", Path: "sub/k", Mode: &m440}}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}},
			{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}}}}}
	ldir := t.TempDir()
	lvols, err := p.SetUp(ctx, local, ldir)
	if err != nil {
		t.Fatal(err)
	}
	kfile := filepath.Join(lvols["cfg"], "sub", "k")
	if b, err := os.ReadFile(kfile); err != nil || string(b) != "v1" {
		t.Fatalf("cfg/sub/k = %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(lvols["sec"], "pw")); err != nil || string(b) != "s3cr3t" {
		t.Fatalf("sec/pw = %q, %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(ldir, "volumes")); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("volumes dir: %v %v", st, err)
	}
	if code, b := call("node-token", "PUT", "/api/v1/namespaces/default/configmaps/app", `{"metadata":{"name":"app"},"data":{"k":"v2"}}`); code != 200 {
		t.Fatalf("PUT configmap: %d %s", code, b)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		if b, _ := os.ReadFile(kfile); string(b) == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ConfigMap edit did not reach the volume in 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, err := os.Stat(kfile); err != nil || st.Mode().Perm() != 0o440 {
		t.Fatalf("mode after the edit: %v %v", st, err)
	}
	if cm, err := p.ConfigMap(ctx, "default", "app"); err != nil || cm.Data["k"] != "v2" {
		t.Fatalf("followed ConfigMap %v %v", cm, err)
	}
	// New labels from the API reach the downward API file.
	relabelled := local.DeepCopy()
	relabelled.Labels = map[string]string{"tier": "web"}
	p.Update(relabelled)
	deadline = time.Now().Add(5 * time.Second)
	for {
		if b, _ := os.ReadFile(filepath.Join(lvols["info"], "labels")); string(b) == `tier="web"` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new labels did not reach the downward API volume in 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.TearDown(local.UID)
	p.objects.mu.Lock()
	followed := len(p.objects.objs)
	p.objects.mu.Unlock()
	if followed != 1 { // kube-root-ca.crt, still used by the first pod
		t.Fatalf("%d objects followed after the local pod's TearDown, want 1", followed)
	}
	p.TearDown(pod.UID)
	p.mu.Lock()
	n := len(p.pods)
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d refreshers after TearDown", n)
	}
}
