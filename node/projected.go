package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// projector materializes pods' projected volumes (runtime.Volumes), as
// the kubelet does: ServiceAccount tokens requested from the API's
// TokenRequest bound to the pod, ConfigMap and Secret items read from the
// API, and downward API fields from the pod. Each volume is a directory
// written atomically in kube's layout (a timestamped ..YYYY_MM_DD_...
// directory, the ..data symlink swapped to it by rename, and one symlink
// per file through ..data), so a container reading it never sees a half
// written set; the runtime bind-mounts the directory read-only. A volume
// with a token is rewritten at 80% of the token's lifetime, or after 24 h
// if sooner (retried every 10 s while that fails), until the pod is torn
// down.
type projector struct {
	log   *slog.Logger
	api   *apiClient
	clock func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	pods   map[types.UID]context.CancelFunc // refreshers
}

func newProjector(api *apiClient, log *slog.Logger) *projector {
	ctx, cancel := context.WithCancel(context.Background())
	return &projector{log: log, api: api, clock: time.Now, ctx: ctx, cancel: cancel, pods: map[types.UID]context.CancelFunc{}}
}

// close stops every refresher and waits. Idempotent.
func (p *projector) close() {
	p.cancel()
	p.wg.Wait()
}

// SetUp writes the pod's projected volumes under dir/volumes and starts
// refreshing those with tokens.
func (p *projector) SetUp(ctx context.Context, pod *corev1.Pod, dir string) (map[string]string, error) {
	out := map[string]string{}
	var vols []corev1.Volume
	for _, v := range pod.Spec.Volumes {
		if v.Projected != nil {
			vols = append(vols, v)
		}
	}
	if len(vols) == 0 {
		return nil, nil
	}
	refresh, err := p.write(ctx, pod, dir, vols)
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		out[v.Name] = volumeDir(dir, v.Name)
	}
	if refresh > 0 {
		p.startRefresh(pod.DeepCopy(), dir, vols, refresh)
	}
	return out, nil
}

// TearDown stops refreshing the pod's volumes.
func (p *projector) TearDown(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cancel, ok := p.pods[uid]; ok {
		cancel()
		delete(p.pods, uid)
	}
}

func volumeDir(podDir, name string) string { return filepath.Join(podDir, "volumes", name) }

// write renders and writes every volume; it returns how long until the
// earliest token should be refreshed (0: none has a token).
func (p *projector) write(ctx context.Context, pod *corev1.Pod, dir string, vols []corev1.Volume) (time.Duration, error) {
	var next time.Duration
	for _, v := range vols {
		files, refresh, err := p.render(ctx, pod, v.Projected)
		if err != nil {
			return 0, fmt.Errorf("projected volume %s: %w", v.Name, err)
		}
		if err := writeAtomic(volumeDir(dir, v.Name), files, p.clock()); err != nil {
			return 0, fmt.Errorf("projected volume %s: %w", v.Name, err)
		}
		if refresh > 0 && (next == 0 || refresh < next) {
			next = refresh
		}
	}
	return next, nil
}

// startRefresh rewrites the volumes at the refresh times until the pod is
// torn down or the projector closes.
func (p *projector) startRefresh(pod *corev1.Pod, dir string, vols []corev1.Volume, after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return
	}
	if cancel, ok := p.pods[pod.UID]; ok {
		cancel() // set up again (adopted, retried): one refresher per pod
	}
	ctx, cancel := context.WithCancel(p.ctx)
	p.pods[pod.UID] = cancel
	p.wg.Go(func() {
		defer cancel()
		log := p.log.With("pod", pod.Namespace+"/"+pod.Name)
		t := time.NewTimer(after)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				return // the pod is gone
			}
			next, err := p.write(ctx, pod, dir, vols)
			if err != nil {
				log.Warn("refresh projected volumes; retrying in 10s", "error", err)
				next = 10 * time.Second
			}
			t.Reset(next)
		}
	})
}

// file is one file of a volume.
type file struct {
	data []byte
	mode os.FileMode
}

// render computes a projected volume's files; refresh is when its token
// (if any) is at 80% of its lifetime.
func (p *projector) render(ctx context.Context, pod *corev1.Pod, src *corev1.ProjectedVolumeSource) (map[string]file, time.Duration, error) {
	mode := os.FileMode(corev1.ProjectedVolumeSourceDefaultMode)
	if src.DefaultMode != nil {
		mode = os.FileMode(*src.DefaultMode) & 0o777
	}
	itemMode := func(m *int32) os.FileMode {
		if m != nil {
			return os.FileMode(*m) & 0o777
		}
		return mode
	}
	files := map[string]file{}
	var refresh time.Duration
	for _, s := range src.Sources {
		switch {
		case s.ServiceAccountToken != nil:
			t := s.ServiceAccountToken
			now := p.clock()
			tok, exp, err := p.api.token(ctx, pod, t)
			if err != nil {
				return nil, 0, err
			}
			files[t.Path] = file{[]byte(tok), mode}
			if life := exp.Sub(now); life > 0 {
				refresh = min(life*8/10, 24*time.Hour) // the kubelet's rule
			}
		case s.ConfigMap != nil:
			cm, err := p.api.configMap(ctx, pod.Namespace, s.ConfigMap.Name)
			if apierrors.IsNotFound(err) && s.ConfigMap.Optional != nil && *s.ConfigMap.Optional {
				continue
			}
			if err != nil {
				return nil, 0, fmt.Errorf("configmap %s: %w", s.ConfigMap.Name, err)
			}
			data := map[string][]byte{}
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
			for k, v := range cm.BinaryData {
				data[k] = v
			}
			if err := project(files, data, s.ConfigMap.Items, s.ConfigMap.Optional, itemMode, "configmap "+s.ConfigMap.Name); err != nil {
				return nil, 0, err
			}
		case s.Secret != nil:
			sec, err := p.api.secret(ctx, pod.Namespace, s.Secret.Name)
			if apierrors.IsNotFound(err) && s.Secret.Optional != nil && *s.Secret.Optional {
				continue
			}
			if err != nil {
				return nil, 0, fmt.Errorf("secret %s: %w", s.Secret.Name, err)
			}
			if err := project(files, sec.Data, s.Secret.Items, s.Secret.Optional, itemMode, "secret "+s.Secret.Name); err != nil {
				return nil, 0, err
			}
		case s.DownwardAPI != nil:
			for _, it := range s.DownwardAPI.Items {
				if it.FieldRef == nil {
					return nil, 0, fmt.Errorf("downward API %s: only fieldRef is supported", it.Path)
				}
				v, err := podField(pod, it.FieldRef.FieldPath)
				if err != nil {
					return nil, 0, err
				}
				files[it.Path] = file{[]byte(v), itemMode(it.Mode)}
			}
		}
	}
	return files, refresh, nil
}

// project copies data's keys (all, or items) into files.
func project(files map[string]file, data map[string][]byte, items []corev1.KeyToPath, optional *bool, mode func(*int32) os.FileMode, what string) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = file{v, mode(nil)}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return fmt.Errorf("%s has no key %q", what, it.Key)
		}
		files[it.Path] = file{v, mode(it.Mode)}
	}
	return nil
}

// podField is a downward API field of the pod.
func podField(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	}
	return "", fmt.Errorf("downward API field %q is not supported", path)
}

// formatMap is the kubelet's k="v" lines, sorted.
func formatMap(m map[string]string) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, k+"="+strconv.Quote(v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// writeAtomic writes files into dir the way kube's AtomicWriter does:
// into a fresh ..<timestamp> directory, then ..data_tmp -> it renamed over
// ..data, then a symlink per top-level name through ..data (names no
// longer written are removed), then the previous directory is removed.
// Paths must be relative and stay inside dir.
func writeAtomic(dir string, files map[string]file, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name := range files {
		if filepath.IsAbs(name) || name == "" || slices.Contains(strings.Split(filepath.ToSlash(name), "/"), "..") || strings.HasPrefix(name, "..") {
			return fmt.Errorf("invalid file path %q", name)
		}
	}
	ts, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return err
	}
	for name, f := range files {
		path := filepath.Join(ts, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(path, f.mode); err != nil { // the umask does not apply
			return err
		}
	}
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		return err
	}
	top := map[string]bool{}
	for name := range files {
		top[strings.SplitN(filepath.ToSlash(name), "/", 2)[0]] = true
	}
	for name := range top {
		link := filepath.Join(dir, name)
		if target, err := os.Readlink(link); err == nil && target == filepath.Join("..data", name) {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, ".."):
			if n != "..data" && n != filepath.Base(ts) { // the previous set, or leftovers of a crash
				_ = os.RemoveAll(filepath.Join(dir, n))
			}
		case !top[n]:
			_ = os.Remove(filepath.Join(dir, n)) // a symlink of a file no longer projected
		}
	}
	return nil
}

// apiClient is the agent's client of the API for projected volumes: it
// finds the API's addresses in the default/kubernetes EndpointSlice the
// node stream delivers (falling back to the node-stream hosts on the
// API's default port) and calls them with base: the node's credential,
// trusting only the cluster CA (nodeAPIConfig).
type apiClient struct {
	base  rest.Config // Host is set per address
	addrs func() []string

	mu      sync.Mutex
	clients map[string]kubernetes.Interface
}

// renewed drops the clients and their connections once the node's
// certificate was renewed: a connection keeps the certificate it was made
// with, which the API checks again at every request (after a CA
// rotation's finish, one of the old CA is refused). Requests in flight
// finish on the old connections.
func (c *apiClient) renewed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tr, ok := c.base.Transport.(*http.Transport); ok {
		c.base.Transport = tr.Clone()
		tr.CloseIdleConnections()
	}
	c.clients = nil
}

// apiServerName is in every member's API serving certificate.
const apiServerName = "kubernetes.default.svc"

func (c *apiClient) client(addr string) (kubernetes.Interface, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.clients[addr]; ok {
		return cs, nil
	}
	cfg := rest.CopyConfig(&c.base)
	cfg.Host, cfg.Timeout, cfg.UserAgent, cfg.TLSClientConfig.ServerName = "https://"+addr, 10*time.Second, "weir-agent", apiServerName
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if c.clients == nil {
		c.clients = map[string]kubernetes.Interface{}
	}
	c.clients[addr] = cs
	return cs, nil
}

// do runs f against each API address in turn until one answers (any
// answer from the API, an error Status included, ends the round).
func (c *apiClient) do(ctx context.Context, f func(kubernetes.Interface) error) error {
	addrs := c.addrs()
	if len(addrs) == 0 {
		return errors.New("no API address known: the default/kubernetes EndpointSlice has no endpoints yet")
	}
	var errs []error
	for _, a := range addrs {
		cs, err := c.client(a)
		if err == nil {
			err = f(cs)
		}
		var st apierrors.APIStatus
		if err == nil || errors.As(err, &st) || ctx.Err() != nil {
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", a, err))
	}
	return errors.Join(errs...)
}

// token requests a token for the pod's ServiceAccount bound to the pod.
func (c *apiClient) token(ctx context.Context, pod *corev1.Pod, t *corev1.ServiceAccountTokenProjection) (string, time.Time, error) {
	tr := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: t.ExpirationSeconds,
		BoundObjectRef: &authnv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}}}
	if t.Audience != "" {
		tr.Spec.Audiences = []string{t.Audience}
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	var out *authnv1.TokenRequest
	err := c.do(ctx, func(cs kubernetes.Interface) (err error) {
		out, err = cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, tr, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	return out.Status.Token, out.Status.ExpirationTimestamp.Time, nil
}

func (c *apiClient) configMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	var out *corev1.ConfigMap
	err := c.do(ctx, func(cs kubernetes.Interface) (err error) {
		out, err = cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		return err
	})
	return out, err
}

func (c *apiClient) secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	var out *corev1.Secret
	err := c.do(ctx, func(cs kubernetes.Interface) (err error) {
		out, err = cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		return err
	})
	return out, err
}

// nodeAPIConfig is how the agent authenticates to the API: the node's
// client certificate (system:node:NAME), and the cluster CA bundle
// (roots, asked at each new connection: it follows a CA rotation) as the
// only trusted roots.
func nodeAPIConfig(cert func() (*tls.Certificate, error), roots func() *x509.CertPool) rest.Config {
	getCert := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		c, err := cert()
		if c == nil && err == nil {
			err = errors.New("the node has no client certificate yet")
		}
		return c, err
	}
	return rest.Config{
		// The kubelet's defaults (kubeAPIQPS 50, kubeAPIBurst 100): every
		// pod start asks for a token and reads its ConfigMaps, and
		// client-go's own default of 5/s held a burst of pods for seconds.
		QPS: 50, Burst: 100,
		Transport: &http.Transport{
			Proxy: nil, ForceAttemptHTTP2: true, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second,
			DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				// The node's current certificate (renewed in place).
				cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots(), ServerName: host,
					NextProtos: []string{"h2", "http/1.1"}, GetClientCertificate: getCert}
				return (&tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}).DialContext(ctx, network, addr)
			},
		}}
}

// apiAddrs are the API's addresses: the ready endpoints of the
// default/kubernetes EndpointSlice first, then its others, then the
// node-stream servers' hosts on port 6443.
func (a *Agent) apiAddrs() []string {
	a.mu.Lock()
	sl := a.state.Slices()
	a.mu.Unlock()
	return apiAddrs(sl, a.cfg.Server)
}

func apiAddrs(sl []discoveryv1.EndpointSlice, servers string) []string {
	var ready, other []string
	for _, s := range sl {
		if s.Namespace != "default" || s.Labels[discoveryv1.LabelServiceName] != "kubernetes" {
			continue
		}
		port := ""
		for _, p := range s.Ports {
			if p.Port != nil {
				port = strconv.Itoa(int(*p.Port))
			}
		}
		if port == "" {
			continue
		}
		for _, e := range s.Endpoints {
			for _, ip := range e.Addresses {
				if e.Conditions.Ready == nil || *e.Conditions.Ready {
					ready = append(ready, net.JoinHostPort(ip, port))
				} else {
					other = append(other, net.JoinHostPort(ip, port))
				}
			}
		}
	}
	out := append(ready, other...)
	for _, s := range strings.Split(servers, ",") {
		if host, _, err := net.SplitHostPort(strings.TrimSpace(s)); err == nil {
			if a := net.JoinHostPort(host, "6443"); !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}
