package api_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store/storetest"
)

// saEnv is an API server with ServiceAccount tokens on, its key and a
// clock the test moves.
type saEnv struct {
	*env
	key *satoken.Key
	now atomic.Int64 // unix seconds
}

func newSAEnv(t *testing.T) *saEnv {
	t.Helper()
	st := storetest.New(t)
	se := &saEnv{}
	se.now.Store(time.Now().Unix())
	tokens := &api.ServiceAccountTokens{Keys: satoken.NewKeys(st), Audiences: []string{"https://weir.test", satoken.DefaultIssuer},
		MaxExpiration: 24 * time.Hour, Now: func() time.Time { return time.Unix(se.now.Load(), 0) }}
	authn, err := api.ServiceAccountAuthenticator(st, tokens)
	if err != nil {
		t.Fatal(err)
	}
	se.env = newEnvOn(t, st, func(c *api.Config) {
		c.ServiceAccountTokens = tokens
		c.Authenticators = append(c.Authenticators, authn)
	})
	if se.key, err = tokens.Keys.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	return se
}

func (e *saEnv) whoami(tok string) *resp {
	e.t.Helper()
	return e.reqToken(tok, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
		`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
}

func (e *saEnv) requestToken(t *testing.T, ns, sa, body string) *resp {
	t.Helper()
	return e.req("POST", "/api/v1/namespaces/"+ns+"/serviceaccounts/"+sa+"/token", body)
}

func TestServiceAccountAdmission(t *testing.T) {
	e := newSAEnv(t)
	// No ServiceAccount yet: the default one is waited for, then refused
	// with kube's message.
	st := e.req("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"early"},"spec":{"containers":[{"name":"c","image":"i"}]}}`).
		status(t, 403, metav1.StatusReasonForbidden)
	if want := `pods "early" is forbidden: error looking up service account default/default: serviceaccount "default" not found`; st.Message != want {
		t.Fatalf("message %q, want %q", st.Message, want)
	}
	e.req("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"default"}}`).must(t, 201)

	var pod corev1.Pod
	e.req("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p1"},"spec":{
		"containers":[{"name":"a","image":"i"},{"name":"b","image":"i","volumeMounts":[{"name":"x","mountPath":"`+api.TokenMountPath+`"}]}],
		"volumes":[{"name":"x","projected":{"sources":[{"downwardAPI":{"items":[{"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}}]}}]}}`).must(t, 201).into(t, &pod)
	if pod.Spec.ServiceAccountName != "default" {
		t.Fatalf("serviceAccountName %q", pod.Spec.ServiceAccountName)
	}
	var vol *corev1.Volume
	for i := range pod.Spec.Volumes {
		if strings.HasPrefix(pod.Spec.Volumes[i].Name, "kube-api-access-") {
			vol = &pod.Spec.Volumes[i]
		}
	}
	if vol == nil || len(vol.Name) != len("kube-api-access-")+5 || vol.Projected == nil || len(vol.Projected.Sources) != 3 {
		t.Fatalf("volumes %+v", pod.Spec.Volumes)
	}
	src := vol.Projected.Sources
	if src[0].ServiceAccountToken == nil || *src[0].ServiceAccountToken.ExpirationSeconds != 3607 || src[0].ServiceAccountToken.Path != "token" ||
		src[1].ConfigMap == nil || src[1].ConfigMap.Name != "kube-root-ca.crt" || src[1].ConfigMap.Items[0].Path != "ca.crt" ||
		src[2].DownwardAPI == nil || src[2].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.namespace" || *vol.Projected.DefaultMode != 0o644 {
		t.Fatalf("projected sources %+v", vol.Projected)
	}
	want := corev1.VolumeMount{Name: vol.Name, ReadOnly: true, MountPath: api.TokenMountPath}
	if m := pod.Spec.Containers[0].VolumeMounts; len(m) != 1 || !reflect.DeepEqual(m[0], want) {
		t.Fatalf("container a mounts %+v", m)
	}
	if m := pod.Spec.Containers[1].VolumeMounts; len(m) != 1 || m[0].Name != "x" {
		t.Fatalf("container b (own mount at the path) mounts %+v", m)
	}

	// automountServiceAccountToken false, on the pod or on its account.
	var pod2, pod3, pod4 corev1.Pod
	e.req("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p2"},"spec":{"automountServiceAccountToken":false,"containers":[{"name":"a","image":"i"}]}}`).
		must(t, 201).into(t, &pod2)
	if pod := pod2; len(pod.Spec.Volumes) != 0 || len(pod.Spec.Containers[0].VolumeMounts) != 0 {
		t.Fatalf("automount false got %+v", pod.Spec)
	}
	e.req("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"quiet"},"automountServiceAccountToken":false}`).must(t, 201)
	e.req("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p3"},"spec":{"serviceAccountName":"quiet","containers":[{"name":"a","image":"i"}]}}`).
		must(t, 201).into(t, &pod3)
	if len(pod3.Spec.Volumes) != 0 {
		t.Fatalf("account automount false got %+v", pod.Spec.Volumes)
	}
	// ...which the pod overrides.
	e.req("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p4"},"spec":{"serviceAccountName":"quiet","automountServiceAccountToken":true,"containers":[{"name":"a","image":"i"}]}}`).
		must(t, 201).into(t, &pod4)
	if len(pod4.Spec.Volumes) != 1 {
		t.Fatalf("pod automount true got %+v", pod.Spec.Volumes)
	}
	st = e.req("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p5"},"spec":{"serviceAccountName":"nope","containers":[{"name":"a","image":"i"}]}}`).
		status(t, 403, metav1.StatusReasonForbidden)
	if want := `pods "p5" is forbidden: error looking up service account default/nope: serviceaccount "nope" not found`; st.Message != want {
		t.Fatalf("message %q, want %q", st.Message, want)
	}
}

func TestTokenRequestAuthenticates(t *testing.T) {
	e := newSAEnv(t)
	var sa corev1.ServiceAccount
	e.req("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"robot"}}`).must(t, 201).into(t, &sa)
	e.req("POST", "/api/v1/nodes", `{"metadata":{"name":"n1"}}`).must(t, 201)
	var pod corev1.Pod
	e.req("POST", "/api/v1/namespaces/default/pods", `{"metadata":{"name":"p1"},"spec":{"serviceAccountName":"robot","nodeName":"n1","containers":[{"name":"a","image":"i"}]}}`).
		must(t, 201).into(t, &pod)

	var tr authnv1.TokenRequest
	e.requestToken(t, "default", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"apiVersion":"v1","kind":"Pod","name":"p1","uid":"`+string(pod.UID)+`"}}}`).
		must(t, 201).into(t, &tr)
	if tr.Kind != "TokenRequest" || tr.Status.Token == "" || *tr.Spec.ExpirationSeconds != 3600 ||
		len(tr.Spec.Audiences) != 2 || tr.Status.ExpirationTimestamp.Unix() != e.now.Load()+3600 {
		t.Fatalf("TokenRequest answer %+v", tr)
	}
	tok := tr.Status.Token

	var who authnv1.SelfSubjectReview
	e.whoami(tok).must(t, 201).into(t, &who)
	ui := who.Status.UserInfo
	if ui.Username != "system:serviceaccount:default:robot" || ui.UID != string(sa.UID) ||
		strings.Join(ui.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:default,system:authenticated" ||
		ui.Extra[api.ExtraPodName][0] != "p1" || ui.Extra[api.ExtraPodUID][0] != string(pod.UID) || ui.Extra[api.ExtraNodeName][0] != "n1" ||
		!strings.HasPrefix(ui.Extra[api.ExtraCredentialID][0], "JTI=") {
		t.Fatalf("whoami %+v", ui)
	}

	// The published key set verifies the token.
	var disc map[string]any
	e.req("GET", "/.well-known/openid-configuration", nil).must(t, 200).into(t, &disc)
	if disc["issuer"] != satoken.DefaultIssuer || disc["jwks_uri"] != satoken.DefaultIssuer+"/openid/v1/jwks" {
		t.Fatalf("discovery %v", disc)
	}
	var set struct{ Keys []struct{ Kid, N, E string } }
	e.req("GET", "/openid/v1/jwks", nil).must(t, 200).into(t, &set)
	verifyWithJWKS(t, tok, set.Keys[0].Kid, set.Keys[0].N, set.Keys[0].E)
	e.reqToken("", "GET", "/openid/v1/jwks", nil).status(t, 401, metav1.StatusReasonUnauthorized)
	e.whoami(tok).must(t, 201) // a ServiceAccount may read them too (kube's issuer discovery role)
	e.reqToken(tok, "GET", "/.well-known/openid-configuration", nil).must(t, 200)

	// Refusals: kube's validation and binding errors.
	e.requestToken(t, "default", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":599}}`).
		status(t, 422, metav1.StatusReasonInvalid)
	e.requestToken(t, "default", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p1","uid":"wrong"}}}`).
		status(t, 409, metav1.StatusReasonConflict)
	e.requestToken(t, "default", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"kind":"ConfigMap","apiVersion":"v1","name":"x"}}}`).
		status(t, 400, metav1.StatusReasonBadRequest)
	e.requestToken(t, "default", "ghost", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`).
		status(t, 404, metav1.StatusReasonNotFound)
	e.req("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"other"}}`).must(t, 201)
	e.requestToken(t, "default", "other", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"p1"}}}`).
		status(t, 400, metav1.StatusReasonBadRequest)
	e.req("GET", "/api/v1/namespaces/default/serviceaccounts/robot/token", nil).status(t, 405, metav1.StatusReasonMethodNotAllowed)
	// The lifetime is capped at the maximum.
	e.requestToken(t, "default", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":999999}}`).
		must(t, 201).into(t, &tr)
	if *tr.Spec.ExpirationSeconds != 24*3600 {
		t.Fatalf("capped expiration %d", *tr.Spec.ExpirationSeconds)
	}

	// Tokens the API must not accept.
	b := satoken.Binding{Namespace: "default", ServiceAccount: satoken.Ref{Name: "robot", UID: string(sa.UID)}, Audiences: []string{satoken.DefaultIssuer},
		Expiration: time.Hour, Pod: &satoken.Ref{Name: "p1", UID: string(pod.UID)}}
	now := time.Unix(e.now.Load(), 0)
	mint := func(k *satoken.Key, iss string, b satoken.Binding) string {
		tk, _, err := satoken.Mint(k, iss, b, now)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	if e.whoami(mint(e.key, satoken.DefaultIssuer, b)).code != 201 {
		t.Fatal("a well-formed token of the test's own minting was refused: the cases below prove nothing")
	}
	other, _ := satoken.NewKey()
	wrongAud, wrongSA, wrongPod := b, b, b
	wrongAud.Audiences = []string{"vault"}
	wrongSA.ServiceAccount.UID = "0000"
	wrongPod.Pod = &satoken.Ref{Name: "p1", UID: "0000"}
	parts := strings.Split(tok, ".")
	for name, bad := range map[string]string{
		"wrong issuer":        mint(e.key, "https://evil.example", b),
		"wrong audience":      mint(e.key, satoken.DefaultIssuer, wrongAud),
		"bad signature":       mint(other, satoken.DefaultIssuer, b),
		"tampered":            parts[0] + "." + parts[1] + "x." + parts[2],
		"stale account uid":   mint(e.key, satoken.DefaultIssuer, wrongSA),
		"recreated pod":       mint(e.key, satoken.DefaultIssuer, wrongPod),
		"not a token of ours": "abc.def",
		"signature truncated": parts[0] + "." + parts[1] + "." + parts[2][:10],
	} {
		if r := e.whoami(bad); r.code != 401 {
			t.Errorf("%s: HTTP %d %s, want 401", name, r.code, r.body)
		}
	}
	// Expired: the clock moves past the hour.
	e.now.Add(3601)
	e.whoami(tok).status(t, 401, metav1.StatusReasonUnauthorized)
	e.now.Add(-3601)
	e.whoami(tok).must(t, 201)

	// Deleting the bound pod revokes the token.
	e.req("DELETE", "/api/v1/namespaces/default/pods/p1?gracePeriodSeconds=0", nil).must(t, 200)
	e.whoami(tok).status(t, 401, metav1.StatusReasonUnauthorized)
}

// TestTokenRequestClientGo asks for a token the way the kubelet and
// kubectl create token do.
func TestTokenRequestClientGo(t *testing.T) {
	e := newSAEnv(t)
	e.req("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"robot"}}`).must(t, 201)
	cs := e.clientset(t, "application/vnd.kubernetes.protobuf")
	exp := int64(600)
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(context.Background(), "robot",
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{"https://weir.test"}, ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var who authnv1.SelfSubjectReview
	e.whoami(tr.Status.Token).must(t, 201).into(t, &who)
	if who.Status.UserInfo.Username != "system:serviceaccount:default:robot" || len(who.Status.UserInfo.Extra[api.ExtraPodName]) != 0 {
		t.Fatalf("whoami %+v", who.Status.UserInfo)
	}
	c, _ := satoken.Parse(tr.Status.Token)
	if c.Expiry-c.IssuedAt != 600 || c.Audience[0] != "https://weir.test" {
		t.Fatalf("claims %+v", c)
	}
	// Discovery and OpenAPI describe the subresource as kube-apiserver does.
	res, err := cs.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range res.APIResources {
		if r.Name == "serviceaccounts/token" {
			found = r.Group == "authentication.k8s.io" && r.Version == "v1" && r.Kind == "TokenRequest" && strings.Join(r.Verbs, ",") == "create"
		}
	}
	if !found {
		t.Errorf("discovery of serviceaccounts/token: %+v", res.APIResources)
	}
	doc := string(e.req("GET", "/openapi/v3/api/v1", nil).must(t, 200).body)
	for _, want := range []string{`"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"`, `"operationId":"createCoreV1NamespacedServiceAccountToken"`,
		`"io.k8s.api.authentication.v1.TokenRequest"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("OpenAPI v3 api/v1 lacks %s", want)
		}
	}
}

func verifyWithJWKS(t *testing.T, tok, kid, n64, e64 string) {
	t.Helper()
	n, _ := base64.RawURLEncoding.DecodeString(n64)
	e, _ := base64.RawURLEncoding.DecodeString(e64)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	p := strings.Split(tok, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(p[0])
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &h); err != nil || h.Kid != kid || h.Alg != "RS256" {
		t.Fatalf("header %s (kid %s): %v", hb, kid, err)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(p[2])
	sum := sha256.Sum256([]byte(p[0] + "." + p[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the JWKS does not verify the token: %v", err)
	}
}

// TestKubectlCreateToken: the real kubectl's `create token` asks for a
// token, and `auth whoami` with it shows the ServiceAccount user.
func TestKubectlCreateToken(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kubectl is not installed: run make deps")
		}
		t.Skip("kubectl is not installed")
	}
	e := newSAEnv(t)
	k := &kubectlEnv{env: e.env, dir: t.TempDir()}
	k.kubeconfig = filepath.Join(k.dir, "kubeconfig")
	hs := httptest.NewTLSServer(e.server.Handler()) // kubectl sends tokens over TLS only
	t.Cleanup(hs.Close)
	cfg := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: weir\n  cluster: {server: %s, insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: %s}\n"+
		"contexts:\n- name: weir\n  context: {cluster: weir, user: admin, namespace: default}\ncurrent-context: weir\n", hs.URL, testToken)
	if err := os.WriteFile(k.kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	k.mustKubectl(t, "", "create", "serviceaccount", "robot")
	tok := strings.TrimSpace(k.mustKubectl(t, "", "create", "token", "robot", "--duration=20m"))
	c, ok := satoken.Parse(tok)
	if !ok || c.Expiry-c.IssuedAt != 1200 || c.Subject != "system:serviceaccount:default:robot" {
		t.Fatalf("kubectl create token: %q", tok)
	}
	out := k.mustKubectl(t, "", "auth", "whoami", "--token", tok, "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
	if out != `system:serviceaccount:default:robot ["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"]` {
		t.Fatalf("kubectl auth whoami: %q", out)
	}
	if out, ok := k.kubectl(t, "", "create", "token", "robot", "--duration=5m"); ok || !strings.Contains(out, "may not specify a duration less than 10 minutes") {
		t.Fatalf("a 5m token: %s", out)
	}
}

// TestTokenBoundToSecretAndNode: tokens bound to a Secret or a Node live
// as long as that object (with the same UID).
func TestTokenBoundToSecretAndNode(t *testing.T) {
	e := newSAEnv(t)
	e.req("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"robot"}}`).must(t, 201)
	e.req("POST", "/api/v1/namespaces/default/secrets", `{"metadata":{"name":"s1"}}`).must(t, 201)
	e.req("POST", "/api/v1/nodes", `{"metadata":{"name":"n1"}}`).must(t, 201)
	token := func(kind, name string) string {
		var tr authnv1.TokenRequest
		e.requestToken(t, "default", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"boundObjectRef":{"apiVersion":"v1","kind":"`+kind+`","name":"`+name+`"}}}`).
			must(t, 201).into(t, &tr)
		return tr.Status.Token
	}
	st, nt := token("Secret", "s1"), token("Node", "n1")
	var who authnv1.SelfSubjectReview
	e.whoami(nt).must(t, 201).into(t, &who)
	if who.Status.UserInfo.Extra[api.ExtraNodeName][0] != "n1" {
		t.Fatalf("node-bound whoami %+v", who.Status.UserInfo)
	}
	e.whoami(st).must(t, 201)
	e.req("DELETE", "/api/v1/namespaces/default/secrets/s1", nil).must(t, 200)
	e.req("DELETE", "/api/v1/nodes/n1", nil).must(t, 200)
	e.whoami(st).status(t, 401, metav1.StatusReasonUnauthorized)
	e.whoami(nt).status(t, 401, metav1.StatusReasonUnauthorized)
	// A recreated account (new UID) invalidates its old tokens.
	var tr authnv1.TokenRequest
	e.requestToken(t, "default", "robot", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`).must(t, 201).into(t, &tr)
	e.whoami(tr.Status.Token).must(t, 201)
	e.req("DELETE", "/api/v1/namespaces/default/serviceaccounts/robot", nil).must(t, 200)
	e.req("POST", "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"robot"}}`).must(t, 201)
	e.whoami(tr.Status.Token).status(t, 401, metav1.StatusReasonUnauthorized)
}
