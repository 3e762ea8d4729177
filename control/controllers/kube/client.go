package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Client is a typed client of one weir API server. Safe for concurrent use.
type Client struct {
	base    string
	token   string
	timeout time.Duration
	hc      *http.Client
}

// New returns a client of the API at server (HOST:PORT or a URL) that sends
// token as its bearer token. It does not contact the server.
func New(server, token string) *Client {
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{base: strings.TrimSuffix(server, "/"), token: token, timeout: 30 * time.Second, hc: &http.Client{Transport: tr}}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// open sends one request and returns the response when it is 2xx,
// otherwise the server's Status as *apierrors.StatusError.
func (c *Client) open(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "weir-controllers")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, decodeStatus(resp)
	}
	return resp, nil
}

func decodeStatus(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var s metav1.Status
	if json.Unmarshal(data, &s) != nil || s.Kind != "Status" {
		s = metav1.Status{Status: metav1.StatusFailure, Code: int32(resp.StatusCode),
			Message: fmt.Sprintf("the server responded with %s: %.200s", resp.Status, data)}
	}
	if s.Code == 0 {
		s.Code = int32(resp.StatusCode)
	}
	return &apierrors.StatusError{ErrStatus: s}
}

// do sends one request within the client's timeout and decodes the answer
// into out when out is non-nil.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.open(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s answer: %w", method, path, err)
	}
	return nil
}

// Get reads one object into out.
func (c *Client) Get(ctx context.Context, k Kind, ns, name string, out any) error {
	return c.do(ctx, http.MethodGet, k.path(ns, name, ""), nil, out)
}

// Create posts obj into its collection and decodes the stored object into out.
func (c *Client) Create(ctx context.Context, k Kind, ns string, obj, out any) error {
	return c.do(ctx, http.MethodPost, k.path(ns, "", ""), obj, out)
}

// Update replaces an object (conditional on its resourceVersion when set).
func (c *Client) Update(ctx context.Context, k Kind, ns, name string, obj, out any) error {
	return c.do(ctx, http.MethodPut, k.path(ns, name, ""), obj, out)
}

// UpdateStatus replaces an object's status through the status subresource.
func (c *Client) UpdateStatus(ctx context.Context, k Kind, ns, name string, obj, out any) error {
	return c.do(ctx, http.MethodPut, k.path(ns, name, "status"), obj, out)
}

// Delete removes an object; a non-empty uid makes it conditional on the
// object still being that one (409 otherwise). The answer (the object's last
// state) is decoded into out when out is non-nil.
func (c *Client) Delete(ctx context.Context, k Kind, ns, name string, uid types.UID, out any) error {
	var body any
	if uid != "" {
		body = &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{Kind: "DeleteOptions", APIVersion: "v1"},
			Preconditions: &metav1.Preconditions{UID: &uid}}
	}
	return c.do(ctx, http.MethodDelete, k.path(ns, name, ""), body, out)
}

// Bind assigns pod ns/name (uid) to node through the binding subresource.
func (c *Client) Bind(ctx context.Context, ns, name string, uid types.UID, node string) error {
	b := &corev1.Binding{
		TypeMeta:   metav1.TypeMeta{Kind: "Binding", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: uid},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	return c.do(ctx, http.MethodPost, Pods.path(ns, name, "binding"), b, nil)
}
