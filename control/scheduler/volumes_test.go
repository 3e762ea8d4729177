package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/scheduler"
)

// TestSchedulerVolumes: a pod whose claim is bound to a volume with node
// affinity goes to that node only; a pod with an unbound claim of a
// WaitForFirstConsumer class is scheduled and its claim annotated with
// the node (volume.kubernetes.io/selected-node); one with an unbound
// Immediate claim, or a missing claim, waits with kube's message.
func TestSchedulerVolumes(t *testing.T) {
	c := kubetest.New(t)
	ctx := context.Background()
	for _, n := range []string{"n1", "n2", "n3"} {
		createNode(t, c, n, "4")
	}
	wait, now := storagev1.VolumeBindingWaitForFirstConsumer, storagev1.VolumeBindingImmediate
	for _, sc := range []*storagev1.StorageClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "later"}, Provisioner: "weir.dev/local-path", VolumeBindingMode: &wait},
		{ObjectMeta: metav1.ObjectMeta{Name: "now"}, Provisioner: "kubernetes.io/no-provisioner", VolumeBindingMode: &now},
	} {
		if _, err := c.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mkClaim := func(name, class, volume string) {
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, StorageClassName: &class,
				VolumeName: volume, Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
		if _, err := c.CoreV1().PersistentVolumeClaims("default").Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "on-n2"}, Spec: corev1.PersistentVolumeSpec{
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		StorageClassName: "now", ClaimRef: &corev1.ObjectReference{Namespace: "default", Name: "bound"},
		PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/srv/a"}},
		NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}}}}}}}}}
	if _, err := c.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mkClaim("bound", "now", "on-n2")
	mkClaim("later", "later", "")
	mkClaim("now", "now", "")
	podWith := func(name, claim string) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Volumes:    []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}}}
		if _, err := c.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		podWith(fmt.Sprintf("pinned-%d", i), "bound")
	}
	podWith("follows", "later")
	podWith("immediate", "now")
	podWith("missing", "nope")
	startScheduler(t, c)
	kubetest.Eventually(t, 30*time.Second, func() string {
		for i := range 3 {
			if n := getPod(t, c, fmt.Sprintf("pinned-%d", i)).Spec.NodeName; n != "n2" {
				return fmt.Sprintf("pinned-%d on %q, want n2", i, n)
			}
		}
		p := getPod(t, c, "follows")
		if p.Spec.NodeName == "" {
			return "follows not scheduled"
		}
		pvc, err := c.CoreV1().PersistentVolumeClaims("default").Get(ctx, "later", metav1.GetOptions{})
		if err != nil || pvc.Annotations[scheduler.SelectedNodeAnnotation] != p.Spec.NodeName {
			return fmt.Sprintf("claim later: %v %v, want selected-node %s", err, pvc.Annotations, p.Spec.NodeName)
		}
		if e := findEvent(c, "immediate", "FailedScheduling", "0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims."); e != "" {
			return e
		}
		return findEvent(c, "missing", "FailedScheduling", `0/3 nodes are available: 3 persistentvolumeclaim "nope" not found.`)
	})
	for _, n := range []string{"immediate", "missing"} {
		if p := getPod(t, c, n); p.Spec.NodeName != "" {
			t.Errorf("%s bound to %s", n, p.Spec.NodeName)
		}
	}
}
