package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// localPathCleaner removes the directories of this node's deleted
// local-path PersistentVolumes: it lists and watches the volumes labelled
// with the node (what the node authorizer lets it read), and for one
// being deleted that still carries the provisioner's finalizer, removes
// its hostPath directory, then the finalizer, so the volume goes.
type localPathCleaner struct {
	api    *apiClient
	node   string
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// The provisioner whose volumes the agent cleans, its node label and its
// finalizer (control/controllers' localpath.go; control/nodeauth's
// constants, which a controllers test compares).
const (
	localPathProvisioner = "weir.dev/local-path"
	localPathNodeLabel   = "weir.dev/local-path-node"
	localPathFinalizer   = "weir.dev/local-path-cleanup"
)

func startLocalPathCleaner(api *apiClient, node string, log *slog.Logger) *localPathCleaner {
	ctx, cancel := context.WithCancel(context.Background())
	c := &localPathCleaner{api: api, node: node, log: log, cancel: cancel}
	c.wg.Go(func() { c.run(ctx) })
	return c
}

// close stops the cleaner and waits for it; idempotent.
func (c *localPathCleaner) close() { c.cancel(); c.wg.Wait() }

func (c *localPathCleaner) run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := c.listWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			backoff = time.Second
			continue
		}
		c.log.Debug("local-path volumes: list and watch; retrying", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (c *localPathCleaner) listWatch(ctx context.Context) error {
	opts := metav1.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{localPathNodeLabel: c.node}).String()}
	var list *corev1.PersistentVolumeList
	if err := c.api.do(ctx, func(cs kubernetes.Interface) (err error) {
		list, err = cs.CoreV1().PersistentVolumes().List(ctx, opts)
		return err
	}); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for i := range list.Items {
		c.clean(ctx, &list.Items[i])
	}
	opts.ResourceVersion, opts.AllowWatchBookmarks = list.ResourceVersion, true
	opts.TimeoutSeconds = new(int64(300 + rand.IntN(300)))
	var w watch.Interface
	if err := c.api.doWatch(ctx, func(cs kubernetes.Interface) (err error) {
		w, err = cs.CoreV1().PersistentVolumes().Watch(ctx, opts)
		return err
	}); err != nil {
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
			if ev.Type == watch.Error {
				return apierrors.FromObject(ev.Object)
			}
			if pv, ok := ev.Object.(*corev1.PersistentVolume); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
				c.clean(ctx, pv)
			}
		}
	}
}

// clean removes a deleted volume's directory and then its finalizer. The
// directory is removed only when it is what the provisioner makes: an
// absolute, clean path whose last element is the volume's name.
func (c *localPathCleaner) clean(ctx context.Context, pv *corev1.PersistentVolume) {
	if pv.DeletionTimestamp == nil || !slices.Contains(pv.Finalizers, localPathFinalizer) {
		return
	}
	log := c.log.With("persistentvolume", pv.Name)
	if err := localPathDir(pv); err != nil {
		log.Warn("local-path volume: not removing its directory", "error", err)
	} else if err := os.RemoveAll(pv.Spec.HostPath.Path); err != nil {
		log.Warn("local-path volume: remove its directory", "error", err)
		return // the next event (or relist) retries
	}
	rest := slices.DeleteFunc(slices.Clone(pv.Finalizers), func(f string) bool { return f == localPathFinalizer })
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": rest, "resourceVersion": pv.ResourceVersion}})
	err := c.api.do(ctx, func(cs kubernetes.Interface) error {
		_, err := cs.CoreV1().PersistentVolumes().Patch(ctx, pv.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Warn("local-path volume: remove its finalizer", "error", err)
		return
	}
	log.Info("local-path volume removed", "path", pv.Spec.HostPath.Path)
}

// localPathDir checks that pv is a local-path volume whose directory the
// agent may remove.
func localPathDir(pv *corev1.PersistentVolume) error {
	switch {
	case pv.Annotations["pv.kubernetes.io/provisioned-by"] != localPathProvisioner:
		return errors.New("not provisioned by " + localPathProvisioner)
	case pv.Spec.HostPath == nil:
		return errors.New("not a hostPath volume")
	}
	p := pv.Spec.HostPath.Path
	if !filepath.IsAbs(p) || filepath.Clean(p) != p || filepath.Base(p) != pv.Name || filepath.Dir(p) == "/" {
		return fmt.Errorf("path %q is not <dir>/%s", p, pv.Name)
	}
	return nil
}
