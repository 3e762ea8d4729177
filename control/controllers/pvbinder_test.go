package controllers_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/nodeauth"
)

func claim(name, class string, size string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: modes,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}}}}
	if class != "-" {
		c.Spec.StorageClassName = &class
	}
	return c
}

func staticVolume(name, class, size string, policy corev1.PersistentVolumeReclaimPolicy, lbls map[string]string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: class,
			PersistentVolumeReclaimPolicy: policy,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/" + name}}}}
}

func getClaim(c kubernetes.Interface, name string) (*corev1.PersistentVolumeClaim, error) {
	return c.CoreV1().PersistentVolumeClaims("default").Get(bg, name, metav1.GetOptions{})
}

func getVolume(c kubernetes.Interface, name string) (*corev1.PersistentVolume, error) {
	return c.CoreV1().PersistentVolumes().Get(bg, name, metav1.GetOptions{})
}

// boundTo waits until claim name is Bound to volume (both ways).
func boundTo(t *testing.T, c kubernetes.Interface, name, volume string) {
	t.Helper()
	eventually(t, func() string {
		pvc, err := getClaim(c, name)
		if err != nil {
			return err.Error()
		}
		pv, err := getVolume(c, volume)
		if err != nil {
			return err.Error()
		}
		if pvc.Spec.VolumeName != volume || pvc.Status.Phase != corev1.ClaimBound || pv.Status.Phase != corev1.VolumeBound ||
			pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != pvc.UID || pvc.Status.Capacity.Storage().IsZero() {
			return fmt.Sprintf("claim %s: %s %s; volume %s: %s %+v", name, pvc.Spec.VolumeName, pvc.Status.Phase, volume, pv.Status.Phase, pv.Spec.ClaimRef)
		}
		return ""
	})
}

// TestVolumeBinderStatic: a claim binds to the smallest Available volume
// of its class that fits its size, modes and selector; none fitting, it
// stays Pending until one is created. Reclaim: Retain keeps a released
// volume (Released), Delete deletes it.
func TestVolumeBinderStatic(t *testing.T) {
	c := start(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, pv := range []*corev1.PersistentVolume{
		staticVolume("big", "manual", "10Gi", corev1.PersistentVolumeReclaimRetain, nil),
		staticVolume("small", "manual", "2Gi", corev1.PersistentVolumeReclaimRetain, nil),
		staticVolume("tiny", "manual", "512Mi", corev1.PersistentVolumeReclaimRetain, nil),
		staticVolume("other-class", "slow", "2Gi", corev1.PersistentVolumeReclaimRetain, nil),
		staticVolume("fast", "manual", "5Gi", corev1.PersistentVolumeReclaimDelete, map[string]string{"tier": "fast"}),
	} {
		must(discard(c.CoreV1().PersistentVolumes().Create(bg, pv, metav1.CreateOptions{})))
	}
	eventually(t, func() string {
		pv, err := getVolume(c, "tiny")
		if err != nil || pv.Status.Phase != corev1.VolumeAvailable {
			return fmt.Sprintf("tiny: %v %v", err, pv)
		}
		return ""
	})
	must(discard(c.CoreV1().PersistentVolumeClaims("default").Create(bg, claim("data", "manual", "1Gi", corev1.ReadWriteOnce), metav1.CreateOptions{})))
	boundTo(t, c, "data", "small")
	sel := claim("picky", "manual", "1Gi", corev1.ReadWriteOnce)
	sel.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "fast"}}
	must(discard(c.CoreV1().PersistentVolumeClaims("default").Create(bg, sel, metav1.CreateOptions{})))
	boundTo(t, c, "picky", "fast")
	must(discard(c.CoreV1().PersistentVolumeClaims("default").Create(bg, claim("huge", "manual", "20Gi", corev1.ReadWriteOnce), metav1.CreateOptions{})))
	must(discard(c.CoreV1().PersistentVolumeClaims("default").Create(bg, claim("shared", "manual", "1Gi", corev1.ReadWriteMany), metav1.CreateOptions{})))
	// big is the only one left of class manual, but too small for huge
	// and without ReadWriteMany for shared.
	eventually(t, func() string {
		pv, _ := getVolume(c, "big")
		if pv == nil || pv.Status.Phase != corev1.VolumeAvailable {
			return "big not Available"
		}
		return ""
	})
	for _, n := range []string{"huge", "shared"} {
		pvc, err := getClaim(c, n)
		must(err)
		if pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimPending {
			t.Errorf("claim %s: bound to %q (%s), want Pending", n, pvc.Spec.VolumeName, pvc.Status.Phase)
		}
	}
	must(discard(c.CoreV1().PersistentVolumes().Create(bg, staticVolume("huge-pv", "manual", "50Gi", corev1.PersistentVolumeReclaimRetain, nil), metav1.CreateOptions{})))
	boundTo(t, c, "huge", "huge-pv")

	// Reclaim.
	must(c.CoreV1().PersistentVolumeClaims("default").Delete(bg, "data", metav1.DeleteOptions{}))
	must(c.CoreV1().PersistentVolumeClaims("default").Delete(bg, "picky", metav1.DeleteOptions{}))
	eventually(t, func() string {
		pv, err := getVolume(c, "small")
		if err != nil || pv.Status.Phase != corev1.VolumeReleased {
			return fmt.Sprintf("small (Retain): %v %v, want Released", err, pv)
		}
		if _, err := getVolume(c, "fast"); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("fast (Delete): %v, want deleted", err)
		}
		return ""
	})
	// A released volume is not bound again.
	must(discard(c.CoreV1().PersistentVolumeClaims("default").Create(bg, claim("again", "manual", "1Gi", corev1.ReadWriteOnce), metav1.CreateOptions{})))
	boundTo(t, c, "again", "big")
}

// TestLocalPathProvisioner: the controllers create the default class
// local-path; a claim of it waits for its first consumer, then (once
// the scheduler's selected-node annotation is set) gets a hostPath
// volume on that node, with node affinity, bound to it; deleting the
// claim deletes the volume (reclaim policy Delete).
func TestLocalPathProvisioner(t *testing.T) {
	c := start(t)
	var sc storagev1.StorageClass
	eventually(t, func() string {
		if err := into(&sc)(c.StorageV1().StorageClasses().Get(bg, controllers.LocalPathClass, metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		return ""
	})
	if sc.Provisioner != controllers.LocalPathProvisioner || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer ||
		*sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Fatalf("default class: %+v", sc)
	}
	if _, err := c.CoreV1().Nodes().Create(bg, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1",
		Labels: map[string]string{"kubernetes.io/hostname": "n1"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pvc corev1.PersistentVolumeClaim
	if err := into(&pvc)(c.CoreV1().PersistentVolumeClaims("default").Create(bg, claim("data", "-", "1Gi", corev1.ReadWriteOnce), metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != controllers.LocalPathClass {
		t.Fatalf("claim's class %v, want the default local-path", pvc.Spec.StorageClassName)
	}
	pvName := "pvc-" + string(pvc.UID)
	// Without a consumer, nothing is provisioned.
	eventually(t, func() string {
		if err := findEvent(c, "default", "data", "ProvisioningSucceeded"); err == "" {
			return "provisioned before a pod was scheduled"
		}
		return ""
	})
	if _, err := getVolume(c, pvName); !apierrors.IsNotFound(err) {
		t.Fatalf("volume before the selected node: %v", err)
	}
	patch := `{"metadata":{"annotations":{"volume.kubernetes.io/selected-node":"n1"}}}`
	if _, err := c.CoreV1().PersistentVolumeClaims("default").Patch(bg, "data", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	boundTo(t, c, "data", pvName)
	pv, err := getVolume(c, pvName)
	if err != nil {
		t.Fatal(err)
	}
	hp := pv.Spec.HostPath
	if hp == nil || hp.Path != controllers.DefaultLocalPathDir+"/"+pvName || hp.Type == nil || *hp.Type != corev1.HostPathDirectoryOrCreate ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.Spec.StorageClassName != controllers.LocalPathClass ||
		pv.Annotations["pv.kubernetes.io/provisioned-by"] != controllers.LocalPathProvisioner {
		t.Errorf("provisioned volume: %+v", pv.Spec)
	}
	na := pv.Spec.NodeAffinity
	if na == nil || na.Required == nil || len(na.Required.NodeSelectorTerms) != 1 ||
		na.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0] != "n1" {
		t.Errorf("node affinity: %+v", na)
	}
	if e := findEvent(c, "default", "data", "ProvisioningSucceeded"); e != "" {
		t.Error(e)
	}
	if err := c.CoreV1().PersistentVolumeClaims("default").Delete(bg, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The volume is deleted, and waits for its node to remove the
	// directory (the agent's part, done here by hand) and the finalizer.
	eventually(t, func() string {
		pv, err := getVolume(c, pvName)
		if err != nil || pv.DeletionTimestamp == nil || len(pv.Finalizers) != 1 || pv.Finalizers[0] != controllers.LocalPathFinalizer {
			return fmt.Sprintf("volume after its claim was deleted: %v %+v", err, pv)
		}
		return ""
	})
	if _, err := c.CoreV1().PersistentVolumes().Patch(bg, pvName, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if _, err := getVolume(c, pvName); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("volume after its finalizer was removed: %v", err)
		}
		return ""
	})
	if controllers.LocalPathNodeLabel != nodeauth.LocalPathNodeLabel || controllers.LocalPathFinalizer != nodeauth.LocalPathFinalizer {
		t.Error("the provisioner's label and finalizer differ from the node authorizer's")
	}
}
