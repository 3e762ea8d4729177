package api_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/weirnet/weir/control/api"
)

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  resources: [{group: "", resources: [configmaps]}]
  namespaces: [quiet]
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version"]
- level: None
  resources: [{group: "", resources: [events]}]
- level: Metadata
`

// readAudit reads every audit event of file and its rotated copies,
// oldest first.
func readAudit(t *testing.T, file string) []auditv1.Event {
	t.Helper()
	var out []auditv1.Event
	for _, f := range []string{file + ".3", file + ".2", file + ".1", file} {
		fh, err := os.Open(f)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev auditv1.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s: %v: %s", f, err, sc.Text())
			}
			out = append(out, ev)
		}
		fh.Close()
	}
	return out
}

// TestAuditLog: with a kube audit policy file, each request the policy
// logs is one audit.k8s.io/v1 Event line naming who (user, groups,
// source IP), what (verb, resource, namespace, name), the answer's code,
// the timestamps and latency, and the request ID (the Audit-Id header);
// a Secret is logged at Metadata (its value never reaches the log); configmaps in "quiet", Events and the probes
// are not logged; the file rotates by size, 0600.
func TestAuditLog(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(auditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	policy, err := api.LoadAuditPolicy(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "audit", "audit.log")
	af, err := api.OpenAuditFile(logFile, 4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { af.Close() })
	alice := authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
		if r.Header.Get("Authorization") != "Bearer alice-token" {
			return nil, false, nil
		}
		return &authenticator.Response{User: &user.DefaultInfo{Name: "alice", Groups: []string{"devs"}}}, true, nil
	})
	e := newEnv(t, func(c *api.Config) {
		c.Audit = &api.AuditConfig{Writer: af, Policy: policy}
		c.Authenticators = []authenticator.Request{alice}
	})
	const secretValue = "c3VwZXItc2VjcmV0LXZhbHVl" // base64 of super-secret-value
	created := e.reqToken("alice-token", "POST", "/api/v1/namespaces/default/secrets",
		`{"metadata":{"name":"s1"},"data":{"k":"`+secretValue+`"}}`, "Audit-ID: my-request-1").must(t, 201)
	if created.header.Get("Audit-Id") != "my-request-1" {
		t.Errorf("Audit-Id header %q, want the client's", created.header.Get("Audit-Id"))
	}
	e.reqToken("alice-token", "GET", "/api/v1/namespaces/default/secrets/s1", nil).must(t, 200)
	e.reqToken("alice-token", "GET", "/api/v1/namespaces/default/configmaps/nope", nil).must(t, 404)
	e.req("POST", "/api/v1/namespaces", `{"metadata":{"name":"quiet"}}`).must(t, 201)
	e.req("POST", "/api/v1/namespaces/quiet/configmaps", cm("hush", "")).must(t, 201)
	e.req("POST", "/api/v1/namespaces/default/events", `{"metadata":{"name":"ev1"},"involvedObject":{"kind":"Pod","name":"p","namespace":"default"},"reason":"R","message":"m"}`)
	e.reqToken("", "GET", "/readyz", nil).must(t, 200)
	e.reqToken("", "GET", "/version", nil).must(t, 200)
	for range 20 { // enough to rotate a 4 KiB file
		e.req("GET", "/api/v1/namespaces/default/configmaps", nil).must(t, 200)
	}

	evs := readAudit(t, logFile)
	if _, err := os.Stat(logFile + ".1"); err != nil {
		t.Errorf("the log did not rotate: %v", err)
	}
	if _, err := os.Stat(logFile + ".4"); err == nil {
		t.Error("more than 3 rotated files kept")
	}
	if st, err := os.Stat(logFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode: %v %v", st.Mode(), err)
	}
	raw := ""
	for _, f := range []string{logFile, logFile + ".1", logFile + ".2", logFile + ".3"} {
		b, _ := os.ReadFile(f)
		raw += string(b)
	}
	if strings.Contains(raw, secretValue) || strings.Contains(raw, "super-secret") {
		t.Error("the Secret's value reached the audit log")
	}
	byID := map[string]auditv1.Event{}
	for _, ev := range evs {
		byID[string(ev.AuditID)] = ev
		if ev.Level != auditv1.LevelMetadata || ev.RequestObject != nil || ev.ResponseObject != nil {
			t.Errorf("event at level %s with bodies: %+v", ev.Level, ev)
		}
		if ev.ObjectRef != nil && (ev.ObjectRef.Namespace == "quiet" && ev.ObjectRef.Resource == "configmaps" || ev.ObjectRef.Resource == "events") {
			t.Errorf("logged despite level None: %s %s", ev.Verb, ev.RequestURI)
		}
		if strings.HasPrefix(ev.RequestURI, "/readyz") || ev.RequestURI == "/version" {
			t.Errorf("probe logged: %s", ev.RequestURI)
		}
	}
	ev, ok := byID["my-request-1"]
	if !ok {
		t.Fatalf("no event for the Secret's create among %d", len(evs))
	}
	if ev.User.Username != "alice" || !contains(ev.User.Groups, "devs") || ev.Verb != "create" || ev.ObjectRef == nil ||
		ev.ObjectRef.Resource != "secrets" || ev.ObjectRef.Namespace != "default" || ev.ResponseStatus == nil || ev.ResponseStatus.Code != 201 ||
		ev.Stage != auditv1.StageResponseComplete || len(ev.SourceIPs) != 1 || ev.SourceIPs[0] != "127.0.0.1" ||
		ev.StageTimestamp.Before(&ev.RequestReceivedTimestamp) || ev.Annotations["weir.io/latency"] == "" {
		t.Errorf("create secret event: %+v", ev)
	}
	var get404, getSecret bool
	for _, ev := range evs {
		if ev.Verb == "get" && ev.ObjectRef != nil && ev.ObjectRef.Name == "nope" && ev.ResponseStatus.Code == 404 && ev.User.Username == "alice" {
			get404 = true
		}
		if ev.Verb == "get" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "secrets" && ev.ObjectRef.Name == "s1" && ev.ResponseStatus.Code == 200 {
			getSecret = true
		}
	}
	if !get404 || !getSecret {
		t.Errorf("get events: 404 %v, secret %v", get404, getSecret)
	}
	if len(evs) < 23 {
		t.Errorf("%d events across the rotated files; want every logged request (>= 23)", len(evs))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAuditPolicyErrors: a policy file with an unknown level or kind is
// refused with the reason.
func TestAuditPolicyErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"level":   "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n",
		"kind":    "apiVersion: audit.k8s.io/v1\nkind: Pod\nrules: []\n",
		"field":   "apiVersion: audit.k8s.io/v1\nkind: Policy\nrulez: []\n",
		"combine": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: [/x]\n  namespaces: [a]\n",
		// what weir would not follow: bodies, or no stage at all
		"bodies":        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n",
		"request body":  "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Request\n",
		"omit complete": "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [ResponseComplete]\nrules:\n- level: Metadata\n",
		"rule omits":    "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  omitStages: [ResponseComplete]\n",
	} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := api.LoadAuditPolicy(f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
