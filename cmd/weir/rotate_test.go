package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/member"
	"github.com/weirnet/weir/control/store/storetest"
)

// testMember is a real control member and its data dir.
type testMember struct {
	*member.Member
	dir, name string
}

// startMembers starts n real control members (the first bootstraps, the
// others join it), the first in ROOT/control as `weir up` lays it out.
func startMembers(t *testing.T, n int) []*testMember {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	root := t.TempDir()
	var ms []*testMember
	for i := 0; i < n; i++ {
		cfg := member.Config{Name: "m" + string(rune('1'+i)), DataDir: filepath.Join(root, "control"), Bootstrap: i == 0,
			Listen: "127.0.0.1:0", Peer: "127.0.0.1:0", Logger: storetest.Logger()}
		if i > 0 {
			cfg.DataDir = t.TempDir()
			secret, err := os.ReadFile(filepath.Join(root, "control", "cluster-secret"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cfg.DataDir, "cluster-secret"), secret, 0o600); err != nil {
				t.Fatal(err)
			}
			cfg.Join = []string{ms[0].Store.PeerAddr()}
		}
		m, err := member.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		ms = append(ms, &testMember{Member: m, dir: cfg.DataDir, name: cfg.Name})
	}
	if err := ms[0].EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	return ms
}

// apiGet sends GET path to m's API with a bearer token: the status code
// and body.
func apiGet(t *testing.T, m *testMember, token, path string) (int, []byte) {
	t.Helper()
	rc := &rest.Config{Host: m.APIURL(), BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: m.CACert()}}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	req, _ := http.NewRequest("GET", m.APIURL()+path, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// waitServing waits until m answers a read with token (the members of a
// fresh cluster may still be electing).
func waitServing(t *testing.T, m *testMember, token string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := apiGet(t, m, token, "/api/v1/namespaces/default")
		if code == 200 {
			return
		}
		if code != 503 || time.Now().After(deadline) {
			t.Fatalf("%s with the token: %d %s", m.name, code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func kubeAs(t *testing.T, m *testMember, token string) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: m.APIURL(), BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: m.CACert()}})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// whoami is the user a token authenticates as on m (a SelfSubjectReview),
// or the error.
func whoami(ctx context.Context, t *testing.T, m *testMember, token string) (string, error) {
	t.Helper()
	r, err := kubeAs(t, m, token).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return r.Status.UserInfo.Username, nil
}

func jwtKid(t *testing.T, tok string) string {
	t.Helper()
	hb, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func jwksKids(t *testing.T, m *testMember, admin string) []string {
	t.Helper()
	code, body := apiGet(t, m, admin, "/openid/v1/jwks")
	if code != 200 {
		t.Fatalf("jwks: %d %s", code, body)
	}
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// TestServiceAccountRotateKeyCommand: `weir serviceaccounts rotate-key`
// through a follower's peer port makes a new key on the leader: a token
// signed before still authenticates on both members, a token issued
// after carries the new kid and authenticates on the member that had the
// old set cached, the JWKS lists both keys; once the old key retires
// (--retire-after) its token is a 401 on both members while the new one
// keeps working, and the JWKS lists the new key only.
func TestServiceAccountRotateKeyCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ms := startMembers(t, 2)
	for _, m := range ms {
		waitServing(t, m, m.Store.Token())
	}
	leader, follower := ms[0], ms[1]
	if !leader.Store.IsLeader() {
		leader, follower = follower, leader
	}
	admin := leader.Store.Token()
	sa, err := kubeAs(t, leader, admin).CoreV1().ServiceAccounts("default").Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(m *testMember) string {
		t.Helper()
		tr, err := kubeAs(t, m, admin).CoreV1().ServiceAccounts("default").CreateToken(ctx, sa.Name, &authnv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	const want = "system:serviceaccount:default:robot"
	oldTok := mint(leader)
	for _, m := range ms {
		if u, err := whoami(ctx, t, m, oldTok); err != nil || u != want {
			t.Fatalf("token before rotation: %q %v", u, err)
		}
	}
	oldKid := jwtKid(t, oldTok)

	var out, errOut bytes.Buffer
	rotated := time.Now()
	err = serviceAccountsCmd(ctx, cliIO{out: &out, errOut: &errOut}, []string{"rotate-key",
		"--data-dir", follower.dir, "--peer", follower.Store.PeerAddr(), "--retire-after", "6s"})
	if err != nil {
		t.Fatalf("rotate-key: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "key "+oldKid+" verifies the tokens it signed until") || !strings.Contains(out.String(), "new signing key ") {
		t.Fatalf("rotate-key output: %q", out.String())
	}
	newTok := mint(leader)
	newKid := jwtKid(t, newTok)
	if newKid == oldKid || !strings.Contains(out.String(), newKid) {
		t.Fatalf("token after rotation has kid %s (old %s); rotate said %q", newKid, oldKid, out.String())
	}
	for _, m := range []*testMember{follower, leader} { // the follower has the old set cached
		for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
			if u, err := whoami(ctx, t, m, tok); err != nil || u != want {
				t.Fatalf("%s token during the overlap on %s: %q %v", name, m.name, u, err)
			}
		}
	}
	if kids := jwksKids(t, leader, admin); len(kids) != 2 || kids[0] != newKid || kids[1] != oldKid {
		t.Fatalf("JWKS during the overlap: %v, want [%s %s]", kids, newKid, oldKid)
	}

	time.Sleep(time.Until(rotated.Add(6500 * time.Millisecond)))
	for _, m := range ms {
		if _, err := whoami(ctx, t, m, oldTok); !apierrors.IsUnauthorized(err) {
			t.Fatalf("old key's token after it retired: %v, want 401", err)
		}
		if u, err := whoami(ctx, t, m, newTok); err != nil || u != want {
			t.Fatalf("new token after the old key retired: %q %v", u, err)
		}
	}
	if kids := jwksKids(t, follower, admin); len(kids) != 1 || kids[0] != newKid {
		t.Fatalf("JWKS after retirement: %v, want [%s]", kids, newKid)
	}
}

// TestAdminTokenRotateCommand: `weir token rotate-admin` on three real
// members replaces the token on each (DATA-DIR/token, without a restart):
// the old token is a 401 everywhere, the new one is system:masters
// everywhere, and the kubeconfigs `weir up` writes that carried the old
// token now carry the new one (one with another token is left alone).
// With a member down, the rotation fails naming it and the token in force
// keeps working, unchanged, on the others.
func TestAdminTokenRotateCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ms := startMembers(t, 3)
	dir := ms[0].dir
	old := ms[0].Store.Token()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SUDO_USER", "")
	writeKC := func(path, token string) {
		t.Helper()
		data, err := client.Kubeconfig("weir", ms[1].APIURL(), ms[0].CACert(), token)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.WriteFileAtomic(path, data); err != nil {
			t.Fatal(err)
		}
	}
	upKC := filepath.Join(filepath.Dir(dir), "kubeconfig")
	homeKC := filepath.Join(home, ".kube", "weir.config")
	otherKC := filepath.Join(home, "other.config")
	writeKC(upKC, old)
	writeKC(homeKC, old)
	writeKC(otherKC, "some-other-token-0123456789")
	for _, m := range ms {
		waitServing(t, m, old)
	}

	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := tokenCmd(ctx, cliIO{out: &out, errOut: &errOut}, append([]string{"rotate-admin"}, args...))
		return out.String() + errOut.String(), err
	}
	out, err := run("--data-dir", dir, "--peer", ms[2].Store.PeerAddr(), "--kubeconfig", otherKC)
	if err != nil {
		t.Fatalf("rotate-admin: %v\n%s", err, out)
	}
	tokData, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(tokData))
	if tok == old || len(tok) < 32 {
		t.Fatalf("DATA/token after rotation: %q (old %q)", tok, old)
	}
	for _, want := range []string{"m1, m2, m3", "new token written to " + filepath.Join(dir, "token"), "updated " + upKC, "updated " + homeKC} {
		if !strings.Contains(out, want) {
			t.Errorf("rotate-admin output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, otherKC) || strings.Contains(out, tok) {
		t.Errorf("rotate-admin output names %s or prints the token:\n%s", otherKC, out)
	}
	for _, m := range ms {
		if b, err := os.ReadFile(filepath.Join(m.dir, "token")); err != nil || strings.TrimSpace(string(b)) != tok {
			t.Errorf("%s/token: %q %v", m.dir, b, err)
		}
		if code, _ := apiGet(t, m, old, "/api/v1/namespaces"); code != 401 {
			t.Errorf("old token after rotation: %d, want 401", code)
		}
		if u, err := whoami(ctx, t, m, tok); err != nil || u != "weir:admin" {
			t.Errorf("new token: %q %v", u, err)
		}
	}
	for path, want := range map[string]string{upKC: tok, homeKC: tok, otherKC: "some-other-token-0123456789"} {
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.AuthInfos["weir"].Token; got != want {
			t.Errorf("%s carries token %q, want %q", path, got, want)
		}
	}
	// client-go with the updated kubeconfig.
	rc, err := clientcmd.BuildConfigFromFlags("", homeKC)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("client-go with the updated kubeconfig: %v", err)
	}

	// A member down: the rotation fails, says which, and changes nothing.
	down := ms[2]
	if down.Store.IsLeader() {
		down = ms[1]
	}
	down.Close()
	var up []*testMember
	for _, m := range ms {
		if m != down {
			up = append(up, m)
		}
	}
	out, err = run("--data-dir", dir, "--peer", ms[0].Store.PeerAddr(), "--timeout", "40s")
	if err == nil || !strings.Contains(err.Error(), down.name) || !strings.Contains(err.Error(), "old token stays in force") {
		t.Fatalf("rotate-admin with %s down: %v\n%s", down.name, err, out)
	}
	for _, m := range up {
		if b, _ := os.ReadFile(filepath.Join(m.dir, "token")); strings.TrimSpace(string(b)) != tok {
			t.Errorf("%s/token changed by a failed rotation", m.dir)
		}
		if u, err := whoami(ctx, t, m, tok); err != nil || u != "weir:admin" {
			t.Errorf("token in force after a failed rotation: %q %v", u, err)
		}
		if got := m.Store.Tokens(); len(got) != 1 {
			t.Errorf("a failed rotation left %d tokens accepted", len(got))
		}
	}
}
