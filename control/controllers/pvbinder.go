package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/weirnet/weir/control/controllers/kube"
)

// The PersistentVolume binder, as kube-controller-manager's
// persistentvolume-binder: it binds each claim to a volume (an Available
// one that fits, or one the local-path provisioner makes, localpath.go),
// keeps both phases current, and reclaims a volume whose claim is gone
// (Delete: the volume is deleted; Retain: it stays Released).
//
// Its keys are "claim/<namespace>/<name>" and "volume/<name>".

// Annotations kube's binder and provisioners write.
const (
	annBindCompleted     = "pv.kubernetes.io/bind-completed"
	annBoundByController = "pv.kubernetes.io/bound-by-controller"
	annProvisionedBy     = "pv.kubernetes.io/provisioned-by"
	annSelectedNode      = "volume.kubernetes.io/selected-node"
)

// volumeBinder is the binder's informers and loop.
type volumeBinder struct {
	claims, volumes, classes cache.SharedIndexInformer
	claimLister              corelisters.PersistentVolumeClaimLister
	volumeLister             corelisters.PersistentVolumeLister
	classLister              storagelisters.StorageClassLister
	loop                     *loop
}

// newVolumeBinder asks the shared factory for the binder's informers.
func (m *Manager) newVolumeBinder() *volumeBinder {
	pvcs, pvs, scs := m.f.Core().V1().PersistentVolumeClaims(), m.f.Core().V1().PersistentVolumes(), m.f.Storage().V1().StorageClasses()
	return &volumeBinder{claims: pvcs.Informer(), volumes: pvs.Informer(), classes: scs.Informer(),
		claimLister: pvcs.Lister(), volumeLister: pvs.Lister(), classLister: scs.Lister()}
}

func claimKey(ns, name string) string { return "claim/" + ns + "/" + name }

// runVolumeBinder runs the binder in wg once the shared caches synced: a
// claim's change enqueues it; a volume's change enqueues it and the claim
// it names; a new volume or class enqueues every unbound claim.
func (m *Manager) runVolumeBinder(ctx context.Context, wg *sync.WaitGroup, h *handlers) {
	b := m.pvb
	b.loop = newLoop("persistentvolume-binder", m.cfg.Workers, m.syncVolumeBinder)
	claim := func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok {
			b.loop.add(claimKey(o.GetNamespace(), o.GetName()))
		}
	}
	pending := func(any) {
		cs, _ := b.claimLister.List(labels.Everything())
		for _, c := range cs {
			if c.Spec.VolumeName == "" {
				b.loop.add(claimKey(c.Namespace, c.Name))
			}
		}
	}
	volume := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		pv, ok := obj.(*corev1.PersistentVolume)
		if !ok {
			return
		}
		b.loop.add("volume/" + pv.Name)
		if r := pv.Spec.ClaimRef; r != nil {
			b.loop.add(claimKey(r.Namespace, r.Name))
		}
	}
	h.onAny(b.claims, claim)
	h.on(b.claims, nil, nil, func(obj any) {
		// the claim's volume is released
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if c, ok := obj.(*corev1.PersistentVolumeClaim); ok && c.Spec.VolumeName != "" {
			b.loop.add("volume/" + c.Spec.VolumeName)
		}
	})
	h.onAny(b.volumes, volume)
	h.on(b.volumes, pending, nil, nil)
	h.on(b.classes, pending, nil, nil)
	if h.err != nil {
		m.log.Error("persistentvolume binder: register informer handlers", "error", h.err)
		return
	}
	wg.Go(func() {
		defer b.loop.q.ShutDown()
		for ctx.Err() == nil {
			err := m.ensureLocalPathClass(ctx)
			if err == nil {
				break
			}
			m.log.Warn("create the default StorageClass", "name", LocalPathClass, "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		for _, k := range b.claims.GetStore().ListKeys() {
			b.loop.add("claim/" + k)
		}
		for _, k := range b.volumes.GetStore().ListKeys() {
			b.loop.add("volume/" + k)
		}
		var workers sync.WaitGroup
		b.loop.run(ctx, &workers, m.cfg.Now, m.log, m.cfg.OnReconcile)
		<-ctx.Done()
		b.loop.q.ShutDown()
		workers.Wait()
	})
}

func (m *Manager) syncVolumeBinder(ctx context.Context, key string, _ time.Time) (time.Duration, error) {
	if name, ok := strings.CutPrefix(key, "volume/"); ok {
		return 0, m.syncVolume(ctx, name)
	}
	ns, name, _ := strings.Cut(strings.TrimPrefix(key, "claim/"), "/")
	return 0, m.syncClaim(ctx, ns, name)
}

// syncClaim binds claim ns/name, or finishes a binding half done.
func (m *Manager) syncClaim(ctx context.Context, ns, name string) error {
	b := m.pvb
	c, err := b.claimLister.PersistentVolumeClaims(ns).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && c.DeletionTimestamp != nil) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Spec.VolumeName != "" {
		pv, err := b.volumeLister.Get(c.Spec.VolumeName)
		if apierrors.IsNotFound(err) {
			if c.Status.Phase == corev1.ClaimBound {
				return m.claimPhase(ctx, c, nil, corev1.ClaimLost)
			}
			return nil // pre-bound to a volume not made yet
		}
		if err != nil {
			return err
		}
		if r := pv.Spec.ClaimRef; r == nil {
			return m.bindVolume(ctx, pv, c)
		} else if r.Namespace != c.Namespace || r.Name != c.Name || (r.UID != "" && r.UID != c.UID) {
			return nil // the volume is another claim's: the claim waits, as in kube
		} else if r.UID == "" {
			return m.bindVolume(ctx, pv, c)
		}
		if pv.Status.Phase != corev1.VolumeBound {
			if err := m.volumePhase(ctx, pv, corev1.VolumeBound, ""); err != nil {
				return err
			}
		}
		return m.claimPhase(ctx, c, pv, corev1.ClaimBound)
	}
	class, err := m.claimClass(c)
	if err != nil {
		return err
	}
	node := ""
	if class != nil && class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
		node = c.Annotations[annSelectedNode]
		if node == "" {
			return nil // kube: WaitForFirstConsumer; the scheduler selects the node
		}
	}
	pv, err := m.matchVolume(c, node)
	if err != nil {
		return err
	}
	if pv != nil {
		if err := m.bindVolume(ctx, pv, c); err != nil {
			return err
		}
		return m.bindClaim(ctx, c, pv.Name)
	}
	if class == nil || class.Provisioner != LocalPathProvisioner {
		return nil // no volume fits: the claim stays Pending until one does
	}
	if node == "" {
		m.event(ctx, "v1", "PersistentVolumeClaim", c, corev1.EventTypeWarning, "ProvisioningFailed",
			fmt.Sprintf("storageclass %q provisions local volumes: its volumeBindingMode must be WaitForFirstConsumer", class.Name))
		return nil
	}
	return m.provisionLocal(ctx, c, class, node)
}

// claimClass is the StorageClass claim c names; nil for none ("" or
// unset) or one that does not exist (yet).
func (m *Manager) claimClass(c *corev1.PersistentVolumeClaim) (*storagev1.StorageClass, error) {
	name := claimClassName(c)
	if name == "" {
		return nil, nil
	}
	sc, err := m.pvb.classLister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return sc, err
}

func claimClassName(c *corev1.PersistentVolumeClaim) string {
	if v, ok := c.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return v
	}
	if c.Spec.StorageClassName != nil {
		return *c.Spec.StorageClassName
	}
	return ""
}

func volumeClassName(pv *corev1.PersistentVolume) string {
	if v, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return v
	}
	return pv.Spec.StorageClassName
}

// matchVolume is kube's FindMatchingVolume: a volume pre-bound to c, or
// else the smallest Available one of c's class with c's access modes, at
// least its request, matching its selector (and, with node set, whose
// node affinity admits node).
func (m *Manager) matchVolume(c *corev1.PersistentVolumeClaim, node string) (*corev1.PersistentVolume, error) {
	pvs, err := m.pvb.volumeLister.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var n *corev1.Node
	if node != "" {
		if n, err = m.in.nodeLister.Get(node); err != nil {
			return nil, fmt.Errorf("selected node %s: %w", node, err)
		}
	}
	want := c.Spec.Resources.Requests[corev1.ResourceStorage]
	var sel labels.Selector
	if c.Spec.Selector != nil {
		if sel, err = metav1.LabelSelectorAsSelector(c.Spec.Selector); err != nil {
			return nil, nil // validated by the API; never matches
		}
	}
	var fits []*corev1.PersistentVolume
	for _, pv := range pvs {
		if pv.DeletionTimestamp != nil {
			continue
		}
		if r := pv.Spec.ClaimRef; r != nil {
			if r.Namespace == c.Namespace && r.Name == c.Name && (r.UID == "" || r.UID == c.UID) {
				return pv, nil // pre-bound (or provisioned) for c
			}
			continue
		}
		size := pv.Spec.Capacity[corev1.ResourceStorage]
		switch {
		case pv.Status.Phase != corev1.VolumeAvailable && pv.Status.Phase != corev1.VolumePending,
			volumeClassName(pv) != claimClassName(c),
			size.Cmp(want) < 0,
			!hasModes(pv.Spec.AccessModes, c.Spec.AccessModes),
			sel != nil && !sel.Matches(labels.Set(pv.Labels)),
			c.Spec.VolumeMode != nil && pv.Spec.VolumeMode != nil && *c.Spec.VolumeMode != *pv.Spec.VolumeMode:
			continue
		}
		if n != nil && pv.Spec.NodeAffinity != nil && pv.Spec.NodeAffinity.Required != nil {
			ns, err := nodeaffinity.NewNodeSelector(pv.Spec.NodeAffinity.Required)
			if err != nil || !ns.Match(n) {
				continue
			}
		}
		fits = append(fits, pv)
	}
	if len(fits) == 0 {
		return nil, nil
	}
	sort.Slice(fits, func(i, j int) bool {
		a, b := fits[i].Spec.Capacity[corev1.ResourceStorage], fits[j].Spec.Capacity[corev1.ResourceStorage]
		if c := a.Cmp(b); c != 0 {
			return c < 0
		}
		return fits[i].Name < fits[j].Name
	})
	return fits[0], nil
}

func hasModes(have, want []corev1.PersistentVolumeAccessMode) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// bindVolume points pv's claimRef at c (with its UID) and makes it Bound.
func (m *Manager) bindVolume(ctx context.Context, pv *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) error {
	pv = pv.DeepCopy()
	if r := pv.Spec.ClaimRef; r == nil || r.UID != c.UID {
		pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace,
			Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion}
		if pv.Annotations == nil {
			pv.Annotations = map[string]string{}
		}
		pv.Annotations[annBoundByController] = "yes"
		var err error
		if pv, err = m.c.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return m.volumePhase(ctx, pv, corev1.VolumeBound, "")
}

// bindClaim sets c's volumeName; its status follows at the next sync.
func (m *Manager) bindClaim(ctx context.Context, c *corev1.PersistentVolumeClaim, volume string) error {
	c = c.DeepCopy()
	c.Spec.VolumeName = volume
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[annBindCompleted] = "yes"
	c.Annotations[annBoundByController] = "yes"
	_, err := m.c.CoreV1().PersistentVolumeClaims(c.Namespace).Update(ctx, c, metav1.UpdateOptions{})
	return err
}

// claimPhase writes c's phase, and its capacity and access modes from
// pv when bound.
func (m *Manager) claimPhase(ctx context.Context, c *corev1.PersistentVolumeClaim, pv *corev1.PersistentVolume, phase corev1.PersistentVolumeClaimPhase) error {
	st := corev1.PersistentVolumeClaimStatus{Phase: phase}
	if pv != nil && phase == corev1.ClaimBound {
		st.AccessModes = pv.Spec.AccessModes
		st.Capacity = corev1.ResourceList{corev1.ResourceStorage: pv.Spec.Capacity[corev1.ResourceStorage]}
	}
	if c.Status.Phase == st.Phase && (pv == nil || (hasModes(c.Status.AccessModes, st.AccessModes) &&
		len(c.Status.AccessModes) == len(st.AccessModes) && c.Status.Capacity.Storage().Cmp(*st.Capacity.Storage()) == 0)) {
		return nil
	}
	c = c.DeepCopy()
	c.Status.Phase, c.Status.AccessModes, c.Status.Capacity = st.Phase, st.AccessModes, st.Capacity
	_, err := m.c.CoreV1().PersistentVolumeClaims(c.Namespace).UpdateStatus(ctx, c, metav1.UpdateOptions{})
	if err == nil && phase == corev1.ClaimLost {
		m.event(ctx, "v1", "PersistentVolumeClaim", c, corev1.EventTypeWarning, "ClaimLost",
			fmt.Sprintf("Bound claim has lost its PersistentVolume %s. Data on the volume is lost!", c.Spec.VolumeName))
	}
	return err
}

func (m *Manager) volumePhase(ctx context.Context, pv *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, reason string) error {
	if pv.Status.Phase == phase && pv.Status.Reason == reason {
		return nil
	}
	pv = pv.DeepCopy()
	pv.Status.Phase, pv.Status.Reason, pv.Status.Message = phase, reason, ""
	now := metav1.NewTime(m.cfg.Now())
	pv.Status.LastPhaseTransitionTime = &now
	_, err := m.c.CoreV1().PersistentVolumes().UpdateStatus(ctx, pv, metav1.UpdateOptions{})
	return err
}

// syncVolume keeps a volume's phase: Available without a claim, Bound
// with its claim, Released once the claim is gone, then reclaimed per its
// policy (Delete deletes it; Retain keeps it Released until an
// administrator deletes it or clears its claimRef).
func (m *Manager) syncVolume(ctx context.Context, name string) error {
	b := m.pvb
	pv, err := b.volumeLister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || pv.DeletionTimestamp != nil {
		return err
	}
	r := pv.Spec.ClaimRef
	if r == nil {
		return m.volumePhase(ctx, pv, corev1.VolumeAvailable, "")
	}
	c, err := b.claimLister.PersistentVolumeClaims(r.Namespace).Get(r.Name)
	switch {
	case err == nil && (r.UID == "" || c.UID == r.UID):
		if r.UID == "" || c.Spec.VolumeName != pv.Name {
			return nil // being bound (syncClaim), or pre-bound to a claim that has not taken it
		}
		return m.volumePhase(ctx, pv, corev1.VolumeBound, "")
	case err != nil && !apierrors.IsNotFound(err):
		return err
	case r.UID == "":
		return nil // pre-bound to a claim that does not exist yet
	}
	// The claim is gone (or replaced by another of the same name):
	// confirm with a live read before reclaiming, as kube does.
	if live, err := m.c.CoreV1().PersistentVolumeClaims(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{}); err == nil && live.UID == r.UID {
		return nil
	} else if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if pv.Status.Phase != corev1.VolumeReleased && pv.Status.Phase != corev1.VolumeFailed {
		if err := m.volumePhase(ctx, pv, corev1.VolumeReleased, ""); err != nil {
			return err
		}
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return nil
	}
	err = m.c.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pv.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	return nil
}
