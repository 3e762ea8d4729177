package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/control/store"
)

// nodeTarget is where a pod's container is served: its node's API.
type nodeTarget struct {
	pod       *corev1.Pod
	container string
	node      string
	base      string // https://IP:PORT
}

// podTarget reads the pod, picks the container (the only one, the
// kubectl.kubernetes.io/default-container annotation, or ?container=) and
// finds the node's API address: Kubernetes' errors when it cannot.
func (s *Server) podTarget(ctx context.Context, rq *request, container string) (*nodeTarget, error) {
	return s.podNodeTarget(ctx, rq, &container)
}

// podNodeTarget is podTarget; a nil container picks none (port-forward).
func (s *Server) podNodeTarget(ctx context.Context, rq *request, container *string) (*nodeTarget, error) {
	o, err := s.store.Get(ctx, rq.res.key(rq.namespace, rq.name), store.ReadOptions{})
	if err != nil {
		return nil, storeError(err, rq.res, rq.name)
	}
	obj, err := rq.res.decodeStored(o)
	if err != nil {
		return nil, errInternal(err)
	}
	pod := obj.(*corev1.Pod)
	var name string
	if container != nil {
		if name, err = pickContainer(pod, *container); err != nil {
			return nil, err
		}
	}
	if pod.Spec.NodeName == "" {
		return nil, errBadRequest("pod %s is not scheduled to a node yet: wait until it is (weir get pod %s)", pod.Name, pod.Name)
	}
	t := &nodeTarget{pod: pod, container: name, node: pod.Spec.NodeName}
	t.base, err = s.nodeBase(ctx, t.node)
	return t, err
}

func pickContainer(pod *corev1.Pod, name string) (string, error) {
	var names []string
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return name, nil
		}
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.InitContainers { // named only, as kube-apiserver
		if name != "" && c.Name == name {
			return name, nil
		}
	}
	if name != "" {
		return "", errBadRequest("container %s is not valid for pod %s: choose one of %v", name, pod.Name, names)
	}
	if d := pod.Annotations["kubectl.kubernetes.io/default-container"]; d != "" {
		return pickContainer(pod, d)
	}
	if len(names) == 1 {
		return names[0], nil
	}
	return "", errBadRequest("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)
}

// nodeBase is https://<InternalIP>:<kubeletEndpoint port> of a node.
func (s *Server) nodeBase(ctx context.Context, name string) (string, error) {
	nodes := s.reg.get("", "v1", "nodes")
	o, err := s.store.Get(ctx, nodes.key("", name), store.ReadOptions{})
	if errors.Is(err, store.ErrNotFound) {
		return "", errUnavailable(fmt.Sprintf("node %q of the pod is not registered: start its agent (weir agent --node-name %s)", name, name))
	} else if err != nil {
		return "", storeError(err, nodes, name)
	}
	obj, err := nodes.decodeStored(o)
	if err != nil {
		return "", errInternal(err)
	}
	node := obj.(*corev1.Node)
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if port == 0 {
		return "", errUnavailable(fmt.Sprintf("node %s serves no node API: restart its agent with --node-api-port (default 10250)", name))
	}
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return "https://" + net.JoinHostPort(a.Address, strconv.Itoa(int(port))), nil
		}
	}
	return "", errUnavailable(fmt.Sprintf("node %s has no InternalIP address: its agent must register one", name))
}

// nodeClient holds the HTTPS clients to node APIs, one per node: each
// trusts only the cluster CA and verifies that the node's serving
// certificate names the node (so a node cannot answer for another, even
// at a reused address), and presents the control plane's client
// certificate (Config.NodeClientCert). All are rebuilt if the CA changes.
type nodeClient struct {
	mu      sync.Mutex
	caPEM   []byte
	clients map[string]*http.Client
}

func (s *Server) nodeHTTP(ctx context.Context, node string) (*http.Client, error) {
	if s.cfg.NodeCA == nil || s.cfg.NodeClientCert == nil {
		return nil, errUnavailable("this API server has no cluster CA or node client certificate to reach node APIs: run it as a weir server member with a node stream (--node-listen)")
	}
	caPEM, err := s.cfg.NodeCA(ctx)
	if err != nil {
		return nil, errUnavailable("the cluster CA is not available yet (no leader?): retry: " + err.Error())
	}
	nc := &s.nodes
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if !bytes.Equal(nc.caPEM, caPEM) {
		for _, c := range nc.clients {
			c.CloseIdleConnections()
		}
		nc.caPEM, nc.clients = caPEM, map[string]*http.Client{}
	}
	if c := nc.clients[node]; c != nil {
		return c, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errInternal(errors.New("the cluster CA is not a PEM certificate"))
	}
	getCert := s.cfg.NodeClientCert
	tc := &tls.Config{RootCAs: pool, ServerName: node, MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return getCert() }}
	// No ResponseHeaderTimeout: a node answers a followed log or an exec
	// with its first output, which may come much later.
	tr := &http.Transport{TLSClientConfig: tc,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext, TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	c := &http.Client{Transport: tr}
	nc.clients[node] = c
	return c, nil
}

// callNode sends a request to the pod's node API. A node that cannot be
// reached is a 503 that says what to check; a node's own Status error
// is passed on by the caller.
func (s *Server) callNode(ctx context.Context, t *nodeTarget, method, path string, q url.Values, body *http.Request) (*http.Response, error) {
	client, err := s.nodeHTTP(ctx, t.node)
	if err != nil {
		return nil, err
	}
	u := t.base + path + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, errInternal(err)
	}
	if body != nil {
		req.Body, req.ContentLength = body.Body, body.ContentLength
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errUnavailable(fmt.Sprintf("node %s does not answer at %s: %v: check that its agent runs and that this member reaches the node's address", t.node, t.base, trimURLError(err)))
	}
	return resp, nil
}

func trimURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.TrimSpace(err.Error())
}

func podPath(kind string, t *nodeTarget) string {
	return "/" + kind + "/" + url.PathEscape(t.pod.Namespace) + "/" + url.PathEscape(t.pod.Name) + "/" + url.PathEscape(t.container)
}
