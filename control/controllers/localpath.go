package controllers

import (
	"context"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The built-in local-path provisioner: a claim of a class with
// provisioner weir.dev/local-path, once the scheduler selected the node
// of its first pod (WaitForFirstConsumer), gets a PersistentVolume
// "pvc-<claim UID>": a hostPath DirectoryOrCreate directory
// <Config.LocalPathDir>/pvc-<claim UID> on that node (the node agent
// makes it when the first pod mounts it), node affinity to that node,
// the class's reclaim policy, pre-bound to the claim (the binder,
// pvbinder.go, completes the binding). When it is deleted, the node's
// agent removes the directory, then the volume's LocalPathFinalizer.
const (
	// LocalPathProvisioner is the provisioner name of weir's local
	// volumes.
	LocalPathProvisioner = "weir.dev/local-path"
	// LocalPathClass is the default StorageClass the controllers create
	// when the cluster has none of that name.
	LocalPathClass = "local-path"
	// DefaultLocalPathDir is where provisioned directories live on the
	// nodes by default.
	DefaultLocalPathDir = "/var/lib/weir/storage"
	// LocalPathNodeLabel names a local-path volume's node (for
	// listing a node's volumes).
	LocalPathNodeLabel = "weir.dev/local-path-node"
	// LocalPathFinalizer keeps a deleted local-path volume until its node
	// agent removed the directory (node/localpath.go); the node authorizer
	// lets the node list, watch and update its volumes by the label.
	LocalPathFinalizer = "weir.dev/local-path-cleanup"
	hostnameLabel      = "kubernetes.io/hostname"
)

// provisionLocal makes claim c's volume on node.
func (m *Manager) provisionLocal(ctx context.Context, c *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, node string) error {
	name := "pvc-" + string(c.UID)
	policy := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		policy = *class.ReclaimPolicy
	}
	dirType := corev1.HostPathDirectoryOrCreate
	mode := corev1.PersistentVolumeFilesystem
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels:      map[string]string{LocalPathNodeLabel: node},
			Finalizers:  []string{LocalPathFinalizer},
			Annotations: map[string]string{annProvisionedBy: LocalPathProvisioner, annBoundByController: "yes"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: c.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   c.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: policy,
			StorageClassName:              class.Name,
			VolumeMode:                    &mode,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: filepath.Join(m.localPathDir(), name), Type: &dirType}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: hostnameLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}},
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.Namespace,
				Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion},
		},
	}
	if _, err := m.c.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		m.event(ctx, "v1", "PersistentVolumeClaim", c, corev1.EventTypeWarning, "ProvisioningFailed",
			fmt.Sprintf("failed to provision volume with StorageClass %q: %v", class.Name, err))
		return err
	}
	m.event(ctx, "v1", "PersistentVolumeClaim", c, corev1.EventTypeNormal, "ProvisioningSucceeded",
		fmt.Sprintf("Successfully provisioned volume %s", name))
	return nil // the volume's add event enqueues the claim, which binds it
}

func (m *Manager) localPathDir() string {
	if m.cfg.LocalPathDir != "" {
		return m.cfg.LocalPathDir
	}
	return DefaultLocalPathDir
}

// ensureLocalPathClass creates the default StorageClass local-path when
// the cluster has no class of that name (once per leader term, as an
// addon manager's EnsureExists would): WaitForFirstConsumer, Delete.
func (m *Manager) ensureLocalPathClass(ctx context.Context) error {
	if _, err := m.pvb.classLister.Get(LocalPathClass); err == nil || !apierrors.IsNotFound(err) {
		return err
	}
	wait, del := storagev1.VolumeBindingWaitForFirstConsumer, corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: LocalPathClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: LocalPathProvisioner, VolumeBindingMode: &wait, ReclaimPolicy: &del,
	}
	_, err := m.c.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
