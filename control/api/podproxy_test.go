package api_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/nodestream"
)

const podsPath = "/api/v1/namespaces/default/pods"

// withNodeCA gives the API a cluster CA for node APIs.
func withNodeCA(t *testing.T) func(*api.Config) {
	ca, err := nodestream.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueClient(nodestream.KubeletClientUser, []string{nodestream.KubeletClientGroup}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *api.Config) {
		c.NodeCA = func(context.Context) ([]byte, error) { return ca.CertPEM, nil }
		c.NodeClientCert = func() (*tls.Certificate, error) { return cert, nil }
	}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func (e *env) node(t *testing.T, name, ip string, port int) {
	t.Helper()
	e.req("POST", "/api/v1/nodes", fmt.Sprintf(`{"metadata":{"name":%q}}`, name)).must(t, http.StatusCreated)
	st := fmt.Sprintf(`{"metadata":{"name":%q},"status":{"addresses":[{"type":"InternalIP","address":%q}],"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}`, name, ip, port)
	e.req("PUT", "/api/v1/nodes/"+name+"/status", st).must(t, http.StatusOK)
}

func (e *env) pod(t *testing.T, name, node string, containers ...string) {
	t.Helper()
	var cs []string
	for _, c := range containers {
		cs = append(cs, fmt.Sprintf(`{"name":%q,"image":"weir/testimage:1"}`, c))
	}
	body := fmt.Sprintf(`{"metadata":{"name":%q},"spec":{"nodeName":%q,"containers":[%s]}}`, name, node, strings.Join(cs, ","))
	e.req("POST", podsPath, body).must(t, http.StatusCreated)
}

// TestPodLogExecErrors: pods/log and pods/exec answer Kubernetes Status
// errors that say what is wrong before any node is called, and 503 with
// what to check when the node cannot be reached.
func TestPodLogExecErrors(t *testing.T) {
	e := newEnv(t, withNodeCA(t))
	e.node(t, "up", "127.0.0.1", closedPort(t))
	e.req("POST", "/api/v1/nodes", `{"metadata":{"name":"old"}}`).must(t, http.StatusCreated)
	e.pod(t, "one", "up", "web")
	e.pod(t, "two", "up", "web", "side")
	e.pod(t, "pending", "", "web")
	e.pod(t, "gone-node", "nowhere", "web")
	e.pod(t, "old-agent", "old", "web")
	e.pod(t, "done", "up", "web")
	e.req("PUT", podsPath+"/done/status", `{"metadata":{"name":"done"},"spec":{"nodeName":"up","containers":[{"name":"web","image":"weir/testimage:1"}]},"status":{"phase":"Succeeded"}}`).must(t, http.StatusOK)

	cases := []struct {
		method, path string
		code         int
		reason, want string
	}{
		{"GET", podsPath + "/ghost/log", 404, "NotFound", `pods "ghost" not found`},
		{"POST", podsPath + "/ghost/exec?command=true", 404, "NotFound", `pods "ghost" not found`},
		{"GET", podsPath + "/pending/log", 400, "BadRequest", "not scheduled"},
		{"GET", podsPath + "/one/log?container=nope", 400, "BadRequest", "container nope is not valid for pod one: choose one of [web]"},
		{"GET", podsPath + "/two/log", 400, "BadRequest", "a container name must be specified for pod two, choose one of: [web side]"},
		{"GET", podsPath + "/one/log?tailLines=-1", 422, "Invalid", "tailLines"},
		{"GET", podsPath + "/one/log?limitBytes=0", 422, "Invalid", "limitBytes"},
		{"GET", podsPath + "/one/log?sinceSeconds=0", 422, "Invalid", "sinceSeconds"},
		{"GET", podsPath + "/one/log?sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z", 422, "Invalid", "at most one of `sinceTime` or `sinceSeconds`"},
		{"GET", podsPath + "/one/log?sinceTime=yesterday", 400, "BadRequest", "sinceTime"},
		{"GET", podsPath + "/one/log?follow=maybe", 400, "BadRequest", "follow"},
		{"POST", podsPath + "/one/exec", 400, "BadRequest", "at least one command"},
		{"POST", podsPath + "/one/exec?command=sh&tty=true", 400, "BadRequest", "at least one of stdin, stdout, or stderr"},
		{"GET", podsPath + "/two/attach?stdout=true", 400, "BadRequest", "a container name must be specified for pod two"},
		{"PUT", podsPath + "/one/log", 405, "MethodNotAllowed", "does not allow this method"},
		{"POST", podsPath + "/one/log", 405, "MethodNotAllowed", "does not allow this method"},
		{"DELETE", podsPath + "/one/exec?command=true&stdout=true", 405, "MethodNotAllowed", "does not allow this method"},
		{"GET", podsPath + "/one/exec?command=true&stdout=true", 400, "BadRequest", "Upgrade request required"},
		{"POST", podsPath + "/one/portforward?ports=0", 400, "BadRequest", "invalid port"},
		{"POST", podsPath + "/done/exec?command=true&stdout=true", 400, "BadRequest", "cannot exec into a container in a completed pod; current phase is Succeeded"},
		{"GET", podsPath + "/done/attach?stdout=true", 400, "BadRequest", "cannot attach to a container in a completed pod"},
		{"GET", podsPath + "/gone-node/log", 503, "ServiceUnavailable", `node "nowhere" of the pod is not registered`},
		{"GET", podsPath + "/old-agent/log", 503, "ServiceUnavailable", "--node-api-port"},
		{"GET", podsPath + "/one/log", 503, "ServiceUnavailable", "node up does not answer"},
	}
	for _, c := range cases {
		st := e.req(c.method, c.path, nil).status(t, c.code, metav1Reason(c.reason))
		if !strings.Contains(st.Message, c.want) {
			t.Errorf("%s %s: message %q, want it to contain %q", c.method, c.path, st.Message, c.want)
		}
	}
	e.req("GET", podsPath+"/one/log", nil, "Accept: text/plain").status(t, 503, "ServiceUnavailable")
	// An upgrade that cannot reach the node is a Status too.
	for _, sub := range []string{"two/exec?container=side&command=true&stdout=true", "two/attach?container=side&stdout=true", "one/portforward"} {
		st := e.req("POST", podsPath+"/"+sub, nil, "Connection: Upgrade", "Upgrade: SPDY/3.1").status(t, 503, "ServiceUnavailable")
		if !strings.Contains(st.Message, "node up does not answer") {
			t.Errorf("%s: message %q", sub, st.Message)
		}
	}

	noCA := newEnv(t)
	noCA.node(t, "up", "127.0.0.1", closedPort(t))
	noCA.pod(t, "one", "up", "web")
	if st := noCA.req("GET", podsPath+"/one/log", nil).status(t, 503, "ServiceUnavailable"); !strings.Contains(st.Message, "cluster CA") {
		t.Errorf("no CA: %q", st.Message)
	}
}

// TestPodSubresourceDiscovery: pods/log, exec, attach and portforward are listed as kube-apiserver lists them.
func TestPodSubresourceDiscovery(t *testing.T) {
	e := newEnv(t)
	body := string(e.req("GET", "/api/v1", nil).must(t, http.StatusOK).body)
	for _, want := range []string{`"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]`,
		`"name":"pods/exec","singularName":"","namespaced":true,"kind":"PodExecOptions","verbs":["create","get"]`,
		`"name":"pods/attach","singularName":"","namespaced":true,"kind":"PodAttachOptions","verbs":["create","get"]`,
		`"name":"pods/portforward","singularName":"","namespaced":true,"kind":"PodPortForwardOptions","verbs":["create","get"]`} {
		if !strings.Contains(body, want) {
			t.Errorf("discovery lacks %s", want)
		}
	}
}

func metav1Reason(s string) metav1.StatusReason { return metav1.StatusReason(s) }
