package node

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// objKey names a ConfigMap or a Secret.
type objKey struct {
	secret   bool
	ns, name string
}

func (k objKey) resource() string {
	if k.secret {
		return "secrets"
	}
	return "configmaps"
}

// podObjects are the ConfigMaps and Secrets a pod uses: its configMap,
// secret and projected volumes' sources and its containers' envFrom and
// env valueFrom.
func podObjects(pod *corev1.Pod) []objKey {
	seen := map[objKey]bool{}
	var out []objKey
	add := func(secret bool, name string) {
		k := objKey{secret, pod.Namespace, name}
		if name != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			add(false, v.ConfigMap.Name)
		case v.Secret != nil:
			add(true, v.Secret.SecretName)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					add(false, s.ConfigMap.Name)
				}
				if s.Secret != nil {
					add(true, s.Secret.Name)
				}
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		for _, ef := range c.EnvFrom {
			if ef.ConfigMapRef != nil {
				add(false, ef.ConfigMapRef.Name)
			}
			if ef.SecretRef != nil {
				add(true, ef.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				add(false, e.ValueFrom.ConfigMapKeyRef.Name)
			}
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add(true, e.ValueFrom.SecretKeyRef.Name)
			}
		}
	}
	return out
}

// objectCache holds the ConfigMaps and Secrets the node's running pods
// use, as the kubelet's watch-based managers do: each object, while a pod
// refers to it (track, untrack), is followed by its own list and watch
// selected by metadata.name (what the node authorizer lets a node read),
// relisted with back-off when the watch ends or fails. onChange is called
// (from the watch goroutine) when a followed object changes, appears or
// goes away after its first list. Objects stay in memory only; nothing of
// them is logged.
type objectCache struct {
	api      *apiClient
	log      *slog.Logger
	onChange func(objKey)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	objs map[objKey]*followed
	pods map[types.UID][]objKey
}

// followed is one object under watch.
type followed struct {
	refs   int
	cancel context.CancelFunc
	synced chan struct{} // closed once the first list answered
	obj    any           // *corev1.ConfigMap or *corev1.Secret; nil: it does not exist
	rv     string
}

func newObjectCache(api *apiClient, log *slog.Logger, onChange func(objKey)) *objectCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &objectCache{api: api, log: log, onChange: onChange, ctx: ctx, cancel: cancel,
		objs: map[objKey]*followed{}, pods: map[types.UID][]objKey{}}
}

// close stops every watch and waits. Idempotent.
func (c *objectCache) close() {
	c.cancel()
	c.wg.Wait()
}

// track makes keys the objects pod uid uses (replacing what it used
// before): new ones are followed, ones no pod uses any more dropped.
func (c *objectCache) track(uid types.UID, keys []objKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.pods[uid]
	for _, k := range keys {
		f := c.objs[k]
		if f == nil {
			if c.ctx.Err() != nil {
				continue
			}
			ctx, cancel := context.WithCancel(c.ctx)
			f = &followed{cancel: cancel, synced: make(chan struct{})}
			c.objs[k] = f
			c.wg.Go(func() { c.follow(ctx, k, f) })
		}
		f.refs++
	}
	c.pods[uid] = keys
	c.release(old)
}

// untrack drops pod uid's objects.
func (c *objectCache) untrack(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.release(c.pods[uid])
	delete(c.pods, uid)
}

func (c *objectCache) release(keys []objKey) {
	for _, k := range keys {
		if f := c.objs[k]; f != nil {
			if f.refs--; f.refs <= 0 {
				f.cancel()
				delete(c.objs, k)
			}
		}
	}
}

// ConfigMap is runtime.Objects' read: the followed copy once its first
// list answered, else (not followed, or its list failing for 5 s) a GET.
func (c *objectCache) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	o, err := c.get(ctx, objKey{false, ns, name})
	if err != nil {
		return nil, err
	}
	return o.(*corev1.ConfigMap), nil
}

// Secret is ConfigMap for Secrets.
func (c *objectCache) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	o, err := c.get(ctx, objKey{true, ns, name})
	if err != nil {
		return nil, err
	}
	return o.(*corev1.Secret), nil
}

func (c *objectCache) get(ctx context.Context, k objKey) (any, error) {
	c.mu.Lock()
	f := c.objs[k]
	c.mu.Unlock()
	if f != nil {
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case <-f.synced:
			c.mu.Lock()
			o := f.obj
			c.mu.Unlock()
			if o == nil {
				return nil, apierrors.NewNotFound(schema.GroupResource{Resource: k.resource()}, k.name)
			}
			return o, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	var out any
	err := c.api.do(ctx, func(cs kubernetes.Interface) (err error) {
		if k.secret {
			out, err = cs.CoreV1().Secrets(k.ns).Get(ctx, k.name, metav1.GetOptions{})
		} else {
			out, err = cs.CoreV1().ConfigMaps(k.ns).Get(ctx, k.name, metav1.GetOptions{})
		}
		return err
	})
	return out, err
}

// follow lists and watches one object until ctx ends.
func (c *objectCache) follow(ctx context.Context, k objKey, f *followed) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := c.listWatch(ctx, k, f)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			backoff = time.Second
			continue // the watch timed out: list again
		}
		c.log.Debug("follow object; retrying", "resource", k.resource(), "namespace", k.ns, "name", k.name, "error", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// listWatch lists the object, then watches it from the list's version
// until the watch ends (nil) or fails.
func (c *objectCache) listWatch(ctx context.Context, k objKey, f *followed) error {
	opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", k.name).String()}
	var obj any
	var rv string
	err := c.api.do(ctx, func(cs kubernetes.Interface) error {
		obj = nil
		if k.secret {
			l, err := cs.CoreV1().Secrets(k.ns).List(ctx, opts)
			if err != nil {
				return err
			}
			if rv = l.ResourceVersion; len(l.Items) > 0 {
				obj = &l.Items[0]
			}
			return nil
		}
		l, err := cs.CoreV1().ConfigMaps(k.ns).List(ctx, opts)
		if err != nil {
			return err
		}
		if rv = l.ResourceVersion; len(l.Items) > 0 {
			obj = &l.Items[0]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	c.set(k, f, obj)

	opts.ResourceVersion, opts.AllowWatchBookmarks = rv, true
	opts.TimeoutSeconds = new(int64(300 + rand.IntN(300)))
	var w watch.Interface
	err = c.api.doWatch(ctx, func(cs kubernetes.Interface) (err error) {
		if k.secret {
			w, err = cs.CoreV1().Secrets(k.ns).Watch(ctx, opts)
		} else {
			w, err = cs.CoreV1().ConfigMaps(k.ns).Watch(ctx, opts)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				switch o := ev.Object.(type) {
				case *corev1.ConfigMap:
					c.set(k, f, o)
				case *corev1.Secret:
					c.set(k, f, o)
				}
			case watch.Deleted:
				c.set(k, f, nil)
			case watch.Error:
				return fmt.Errorf("watch: %w", apierrors.FromObject(ev.Object))
			}
		}
	}
}

// set stores the object's current state; after the first, a change of
// its resourceVersion (or existence) is reported to onChange.
func (c *objectCache) set(k objKey, f *followed, obj any) {
	rv := ""
	if m, ok := obj.(metav1.Object); ok {
		rv = m.GetResourceVersion()
	}
	c.mu.Lock()
	first := false
	select {
	case <-f.synced:
	default:
		first = true
	}
	changed := !first && (rv != f.rv || (obj == nil) != (f.obj == nil))
	f.obj, f.rv = obj, rv
	if first {
		close(f.synced)
	}
	c.mu.Unlock()
	if changed && c.onChange != nil {
		c.onChange(k)
	}
}
