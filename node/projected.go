package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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

	"github.com/weirnet/weir/node/runtime"
)

// projector materializes pods' configMap, secret, downwardAPI and
// projected volumes (runtime.Volumes), as the kubelet does: ConfigMap and
// Secret keys from the objectCache (followed by watches while pods use
// them), ServiceAccount tokens requested from the API's TokenRequest
// bound to the pod, and downward API fields from the pod. Each volume is
// a directory written atomically in kube's layout (a timestamped
// ..YYYY_MM_DD_... directory, the ..data symlink swapped to it by rename,
// and one symlink per top-level name through ..data), so a container
// reading it never sees a half written set; the runtime bind-mounts the
// directory read-only. Secret and projected volumes are tmpfs mounts
// (memory, when set) so that Secrets and tokens never reach the node's
// disk; every volume sits in the pod's volumes/ directory, 0700.
//
// Each pod with such volumes has a refresher: a change of a ConfigMap or
// Secret rewrites the volumes that use it (within the watch's latency),
// new labels or annotations (Update) the downward API files showing
// them; a volume with a token is rewritten at 80% of the token's lifetime, or
// after 24 h if sooner; a failed rewrite is retried every 10 s; all until
// the pod is torn down.
type projector struct {
	log     *slog.Logger
	api     *apiClient
	objects *objectCache
	clock   func() time.Time
	// memory mounts a tmpfs on a volume's directory (runtime.MountTmpfs);
	// nil: volumes are plain directories (tests).
	memory func(dir string) error

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	pods   map[types.UID]*podVolumes
}

// podVolumes is one pod's refresher.
type podVolumes struct {
	cancel  context.CancelFunc
	kick    chan struct{} // 1-buffered: a followed object or the pod's metadata changed
	changed map[objKey]bool
	keys    map[objKey]bool // what the pod's volumes read
	pod     *corev1.Pod     // as set up, with the API's latest labels and annotations
	meta    bool            // labels or annotations changed since the last write
}

func newProjector(api *apiClient, log *slog.Logger) *projector {
	ctx, cancel := context.WithCancel(context.Background())
	p := &projector{log: log, api: api, clock: time.Now, ctx: ctx, cancel: cancel, pods: map[types.UID]*podVolumes{}}
	p.objects = newObjectCache(api, log, p.changed)
	return p
}

// close stops every refresher and watch and waits. Idempotent.
func (p *projector) close() {
	p.cancel()
	p.wg.Wait()
	p.objects.close()
}

// ConfigMap and Secret are runtime.Objects (containers' env): the
// followed objects of the pods set up here.
func (p *projector) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	return p.objects.ConfigMap(ctx, ns, name)
}

func (p *projector) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	return p.objects.Secret(ctx, ns, name)
}

// handled: the volume types the projector writes.
func handled(v *corev1.Volume) bool {
	return v.Projected != nil || v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil
}

// SetUp follows the ConfigMaps and Secrets the pod uses (volumes and
// env), writes its volumes under dir/volumes and starts refreshing them.
func (p *projector) SetUp(ctx context.Context, pod *corev1.Pod, dir string) (map[string]string, error) {
	p.objects.track(pod.UID, podObjects(pod))
	var vols []corev1.Volume
	for _, v := range pod.Spec.Volumes {
		if handled(&v) {
			vols = append(vols, v)
		}
	}
	if len(vols) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "volumes"), 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Join(dir, "volumes"), 0o700); err != nil { // made 0755 by an emptyDir, or an older agent
		return nil, err
	}
	out := map[string]string{}
	for _, v := range vols {
		vd := volumeDir(dir, v.Name)
		// A fresh volume only: one an older agent wrote on disk is what the
		// running containers have bind-mounted, and must stay so.
		if _, err := os.Stat(vd); errors.Is(err, os.ErrNotExist) && p.memory != nil && (v.Secret != nil || v.Projected != nil) {
			if err := p.memory(vd); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		}
		out[v.Name] = vd
	}
	refresh, err := p.write(ctx, pod, dir, vols)
	if err != nil {
		return nil, err
	}
	p.startRefresh(pod.DeepCopy(), dir, vols, refresh)
	return out, nil
}

// TearDown stops refreshing the pod's volumes and following its objects.
func (p *projector) TearDown(uid types.UID) {
	p.mu.Lock()
	if pv, ok := p.pods[uid]; ok {
		pv.cancel()
		delete(p.pods, uid)
	}
	p.mu.Unlock()
	p.objects.untrack(uid)
}

func volumeDir(podDir, name string) string { return filepath.Join(podDir, "volumes", name) }

// volumeObjects are the ConfigMaps and Secrets a volume reads.
func volumeObjects(ns string, v *corev1.Volume) []objKey {
	return podObjects(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{*v}}})
}

// changed is the objectCache's onChange: the pods whose volumes read k
// are kicked.
func (p *projector) changed(k objKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pv := range p.pods {
		if pv.keys[k] {
			pv.changed[k] = true
			select {
			case pv.kick <- struct{}{}:
			default:
			}
		}
	}
}

// write renders and writes volumes; it returns how long until the
// earliest token should be refreshed (0: none has a token).
func (p *projector) write(ctx context.Context, pod *corev1.Pod, dir string, vols []corev1.Volume) (time.Duration, error) {
	var next time.Duration
	for _, v := range vols {
		files, refresh, err := p.render(ctx, pod, &v)
		if err != nil {
			return 0, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if err := writeAtomic(volumeDir(dir, v.Name), files, p.clock()); err != nil {
			return 0, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if gid := runtime.FSGroup(pod); gid != nil { // the pod's fsGroup, as the kubelet sets it at each write
			if err := runtime.SetVolumeOwnership(volumeDir(dir, v.Name), *gid, true); err != nil {
				return 0, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		}
		if refresh > 0 && (next == 0 || refresh < next) {
			next = refresh
		}
	}
	return next, nil
}

// startRefresh rewrites the pod's volumes when an object they read
// changes and, when after > 0, at the token refresh times, until the pod
// is torn down or the projector closes.
func (p *projector) startRefresh(pod *corev1.Pod, dir string, vols []corev1.Volume, after time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return
	}
	if pv, ok := p.pods[pod.UID]; ok {
		pv.cancel() // set up again (adopted, retried): one refresher per pod
	}
	ctx, cancel := context.WithCancel(p.ctx)
	pv := &podVolumes{cancel: cancel, kick: make(chan struct{}, 1), changed: map[objKey]bool{}, keys: map[objKey]bool{}, pod: pod}
	for _, v := range vols {
		for _, k := range volumeObjects(pod.Namespace, &v) {
			pv.keys[k] = true
		}
	}
	p.pods[pod.UID] = pv
	p.wg.Go(func() {
		defer cancel()
		log := p.log.With("pod", pod.Namespace+"/"+pod.Name)
		t := time.NewTimer(after)
		if after <= 0 {
			t.Stop()
		}
		defer t.Stop()
		for {
			var todo []corev1.Volume
			var all bool
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				all = true
			case <-pv.kick:
			}
			p.mu.Lock()
			changed, meta, cur := pv.changed, pv.meta, pv.pod
			pv.changed, pv.meta = map[objKey]bool{}, false
			p.mu.Unlock()
			for _, v := range vols {
				if all || (meta && readsMetadata(&v)) ||
					slices.ContainsFunc(volumeObjects(pod.Namespace, &v), func(k objKey) bool { return changed[k] }) {
					todo = append(todo, v)
				}
			}
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				return // the pod is gone
			}
			next, err := p.write(ctx, cur, dir, todo)
			if err != nil {
				log.Warn("refresh volumes; retrying all in 10s", "error", err)
				next = 10 * time.Second
			}
			if next > 0 {
				t.Stop()
				t.Reset(next)
			}
		}
	})
}

// Update takes the API's current copy of a pod (runtime.Volumes): when
// its labels or annotations changed, the downward API files showing them
// are rewritten, as the kubelet does.
func (p *projector) Update(pod *corev1.Pod) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pv := p.pods[pod.UID]
	if pv == nil || (maps.Equal(pv.pod.Labels, pod.Labels) && maps.Equal(pv.pod.Annotations, pod.Annotations)) {
		return
	}
	cur := pv.pod.DeepCopy()
	cur.Labels, cur.Annotations = maps.Clone(pod.Labels), maps.Clone(pod.Annotations)
	pv.pod, pv.meta = cur, true
	select {
	case pv.kick <- struct{}{}:
	default:
	}
}

// readsMetadata: a volume has downward API files of labels or
// annotations.
func readsMetadata(v *corev1.Volume) bool {
	var items []corev1.DownwardAPIVolumeFile
	if v.DownwardAPI != nil {
		items = v.DownwardAPI.Items
	}
	if v.Projected != nil {
		for _, s := range v.Projected.Sources {
			if s.DownwardAPI != nil {
				items = append(items, s.DownwardAPI.Items...)
			}
		}
	}
	return slices.ContainsFunc(items, func(it corev1.DownwardAPIVolumeFile) bool {
		return it.FieldRef != nil && (strings.HasPrefix(it.FieldRef.FieldPath, "metadata.labels") || strings.HasPrefix(it.FieldRef.FieldPath, "metadata.annotations"))
	})
}

// file is one file of a volume.
type file struct {
	data []byte
	mode os.FileMode
}

// render computes a volume's files; refresh is when its token (if any)
// is at 80% of its lifetime.
func (p *projector) render(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (map[string]file, time.Duration, error) {
	var defaultMode *int32
	var sources []corev1.VolumeProjection
	switch {
	case v.Projected != nil:
		defaultMode, sources = v.Projected.DefaultMode, v.Projected.Sources
	case v.ConfigMap != nil:
		cm := v.ConfigMap
		defaultMode = cm.DefaultMode
		sources = []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: cm.LocalObjectReference, Items: cm.Items, Optional: cm.Optional}}}
	case v.Secret != nil:
		sec := v.Secret
		defaultMode = sec.DefaultMode
		sources = []corev1.VolumeProjection{{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: sec.SecretName}, Items: sec.Items, Optional: sec.Optional}}}
	case v.DownwardAPI != nil:
		defaultMode = v.DownwardAPI.DefaultMode
		sources = []corev1.VolumeProjection{{DownwardAPI: &corev1.DownwardAPIProjection{Items: v.DownwardAPI.Items}}}
	}
	mode := os.FileMode(corev1.ProjectedVolumeSourceDefaultMode) // 0644, the default of every type
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode) & 0o777
	}
	itemMode := func(m *int32) os.FileMode {
		if m != nil {
			return os.FileMode(*m) & 0o777
		}
		return mode
	}
	files := map[string]file{}
	var refresh time.Duration
	for _, s := range sources {
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
			cm, err := p.objects.ConfigMap(ctx, pod.Namespace, s.ConfigMap.Name)
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
			sec, err := p.objects.Secret(ctx, pod.Namespace, s.Secret.Name)
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
				var val string
				var err error
				switch {
				case it.FieldRef != nil:
					val, err = runtime.FieldPathValue(pod, it.FieldRef.FieldPath, nil, nil)
				case it.ResourceFieldRef != nil:
					val, err = runtime.ResourceFieldValue(pod, nil, it.ResourceFieldRef, nodeCapacity())
				default:
					err = errors.New("no fieldRef or resourceFieldRef")
				}
				if err != nil {
					return nil, 0, fmt.Errorf("downward API %s: %w", it.Path, err)
				}
				files[it.Path] = file{[]byte(val), itemMode(it.Mode)}
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

// client is the client of the API at addr; a stream client (for
// watches) has no overall request timeout.
func (c *apiClient) client(addr string, stream bool) (kubernetes.Interface, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := addr
	if stream {
		key += " stream"
	}
	if cs, ok := c.clients[key]; ok {
		return cs, nil
	}
	cfg := rest.CopyConfig(&c.base)
	cfg.Host, cfg.Timeout, cfg.UserAgent, cfg.TLSClientConfig.ServerName = "https://"+addr, 10*time.Second, "weir-agent", apiServerName
	if stream {
		cfg.Timeout = 0
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if c.clients == nil {
		c.clients = map[string]kubernetes.Interface{}
	}
	c.clients[key] = cs
	return cs, nil
}

// do runs f against each API address in turn until one answers (any
// answer from the API, an error Status included, ends the round).
func (c *apiClient) do(ctx context.Context, f func(kubernetes.Interface) error) error {
	return c.try(ctx, false, f)
}

// doWatch is do with the stream clients, for watches.
func (c *apiClient) doWatch(ctx context.Context, f func(kubernetes.Interface) error) error {
	return c.try(ctx, true, f)
}

func (c *apiClient) try(ctx context.Context, stream bool, f func(kubernetes.Interface) error) error {
	addrs := c.addrs()
	if len(addrs) == 0 {
		return errors.New("no API address known: the default/kubernetes EndpointSlice has no endpoints yet")
	}
	var errs []error
	for _, a := range addrs {
		cs, err := c.client(a, stream)
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
	var sl []discoveryv1.EndpointSlice
	for _, s := range a.state.SlicesOf("default/kubernetes") { // its slices alone, not every slice
		sl = append(sl, *s)
	}
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
