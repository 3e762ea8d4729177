package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultTimeout bounds a request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Client talks to one weir API server. It is safe for concurrent use. Close
// releases its idle connections.
type Client struct {
	base      *url.URL
	token     string
	namespace string
	timeout   time.Duration
	hc        *http.Client
	disc      discoveryCache
}

// New builds a Client from cfg. It does not contact the server.
func New(cfg Config) (*Client, error) {
	base, err := parseServer(cfg.Server)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil, // the API is on loopback or the cluster network
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 4,
	}
	if base.Scheme == "https" {
		tc, err := tlsConfig(cfg.CAFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = "default"
	}
	return &Client{base: base, token: cfg.Token, namespace: ns, timeout: timeout, hc: &http.Client{Transport: tr}}, nil
}

// Close releases idle connections. The Client stays usable.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Server is the base URL the client talks to.
func (c *Client) Server() string { return c.base.String() }

// Namespace is the configured default namespace.
func (c *Client) Namespace() string { return c.namespace }

func parseServer(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("no weir server given: pass --server HOST:PORT or run `sudo make up`")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("invalid weir server %q: want http://HOST:PORT, https://HOST:PORT or HOST:PORT", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func tlsConfig(caFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificates", caFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	body   any // JSON-encoded when non-nil
}

// open sends r and returns the response when it is 2xx; otherwise the
// server's error as *StatusError. The caller closes the body.
func (c *Client) open(ctx context.Context, r request) (*http.Response, error) {
	// Path segments are already escaped (see Path), so the URL is built as
	// a string rather than through url.URL.Path, which would escape again.
	u := c.base.String() + r.path
	if q := r.query.Encode(); q != "" {
		u += "?" + q
	}
	var body io.Reader
	if r.body != nil {
		data, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s body: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "weir-client")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (is the weir server at %s running? check --server)",
			r.method, r.path, err, c.base.Host)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}

// do sends r within the client's timeout and decodes a JSON answer into out
// (when out is non-nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.open(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s answer: %w", r.method, r.path, err)
	}
	return nil
}
