package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// DefaultTimeout bounds a request when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// userAgent is what the CLI's requests name themselves.
const userAgent = "weir-client"

// Client talks to one weir API server through client-go: a typed
// clientset, the dynamic client with a discovery-backed RESTMapper, and a
// RESTClient for weir's own /weir/v1 endpoints. It is safe for concurrent
// use.
type Client struct {
	server    string
	namespace string
	timeout   time.Duration
	config    *rest.Config
	kube      kubernetes.Interface
	dyn       dynamic.Interface
	disc      discovery.CachedDiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	rest      *rest.RESTClient // unversioned, for /weir/v1 and the exec stream
	tables    *rest.RESTClient // Tables (see Table)
	hc        *http.Client     // under all of them
}

// New builds a Client from cfg. It does not contact the server.
func New(cfg Config) (*Client, error) {
	rc, err := RESTConfig(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = "default"
	}
	// One http.Client (client-go's TLS and bearer-token transport) under
	// every client-go client below.
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("build HTTP client: %w", err)
	}
	kube, err := kubernetes.NewForConfigAndClient(rc, hc)
	if err != nil {
		return nil, fmt.Errorf("build client: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(rc, hc)
	if err != nil {
		return nil, fmt.Errorf("build dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(rc, hc)
	if err != nil {
		return nil, fmt.Errorf("build discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	raw := rest.CopyConfig(rc)
	raw.GroupVersion = nil
	raw.APIPath = ""
	raw.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	rc2, err := rest.UnversionedRESTClientForConfigAndClient(raw, hc)
	if err != nil {
		return nil, fmt.Errorf("build REST client: %w", err)
	}
	tc, err := tableClient(rc, hc)
	if err != nil {
		return nil, fmt.Errorf("build table client: %w", err)
	}
	return &Client{
		server: rc.Host, namespace: ns, timeout: timeout, config: rc,
		kube: kube, dyn: dyn, disc: cached,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached),
		rest:   rc2, tables: tc, hc: hc,
	}, nil
}

// RESTConfig is client-go's configuration for cfg: the server URL, bearer
// token, CA and client certificate. Requests carry no client-side timeout
// (watches and streams end with their context); Client bounds each
// non-streaming call with Config.Timeout through its context.
func RESTConfig(cfg Config) (*rest.Config, error) {
	base, err := parseServer(cfg.Server)
	if err != nil {
		return nil, err
	}
	if cfg.CAFile != "" {
		if _, err := os.Stat(cfg.CAFile); err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
	}
	rc := &rest.Config{
		Host:        base.String(),
		BearerToken: cfg.Token,
		UserAgent:   userAgent,
		QPS:         100,
		Burst:       200,
		// The API is on loopback or the cluster network.
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
	}
	if base.Scheme == "https" {
		rc.TLSClientConfig = rest.TLSClientConfig{
			CAFile: cfg.CAFile, CAData: cfg.CAData,
			CertData: cfg.CertData, KeyData: cfg.KeyData,
			ServerName: cfg.ServerName,
		}
		if _, err := rest.TLSConfigFor(rc); err != nil {
			return nil, fmt.Errorf("TLS configuration: %w", err)
		}
	}
	return rc, nil
}

// Close releases idle connections. The Client stays usable.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Server is the base URL the client talks to.
func (c *Client) Server() string { return c.server }

// Kube is the typed clientset, for callers that want typed objects.
func (c *Client) Kube() kubernetes.Interface { return c.kube }

// Dynamic is the dynamic client.
func (c *Client) Dynamic() dynamic.Interface { return c.dyn }

// RESTConfig is a copy of the client's client-go configuration.
func (c *Client) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }

// TLSConfig is the TLS configuration the client verifies the server with
// (it trusts the cluster CA), nil for an http server. Other members of the
// same cluster verify with it too.
func (c *Client) TLSConfig() *tls.Config {
	if !strings.HasPrefix(c.server, "https://") {
		return nil
	}
	tc, err := rest.TLSConfigFor(c.config)
	if err != nil {
		return nil // New checked it
	}
	return tc
}

// Namespace is the configured default namespace.
func (c *Client) Namespace() string { return c.namespace }

// bounded is ctx bounded by the client's timeout.
func (c *Client) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

func parseServer(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("no weir server given: pass --server HOST:PORT or run `sudo make up`")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("invalid weir server %q: want http://HOST:PORT, https://HOST:PORT or HOST:PORT", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}
