package nodee2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/node/runtime/testimage"
)

// storageNode is onePodNode with the local-path provisioner's directory
// in a temporary directory.
func storageNode(t *testing.T) (*cluster, *node, *uidSet, string) {
	t.Helper()
	storage := t.TempDir()
	c, n, _, uids := onePodNode(t, "--local-path-dir", storage)
	return c, n, uids, storage
}

func volumePod(name, script string, vols []corev1.Volume, mounts []corev1.VolumeMount) *corev1.Pod {
	grace := int64(1)
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace, Volumes: vols,
			Containers: []corev1.Container{{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
				Command: []string{"/bin/sh", "-c", script}, VolumeMounts: mounts}}}}
}

// TestPersistentVolumeClaimLocalPath: a claim of the default class
// local-path waits for its pod; the scheduler places the pod, the
// provisioner makes a volume on that node under --local-path-dir, the
// agent creates the directory and mounts it; the pod writes a file; after
// the pod is deleted a new pod with the same claim reads it; a read-only
// mount of the claim cannot write. Deleting the claim deletes the volume
// and the agent removes its directory.
func TestPersistentVolumeClaimLocalPath(t *testing.T) {
	c, n, uids, storage := storageNode(t)
	kube := c.api.Kube()
	ctx := context.Background()
	waitFor(t, "StorageClass local-path", 30*time.Second, func() bool {
		_, err := kube.StorageV1().StorageClasses().Get(ctx, "local-path", metav1.GetOptions{})
		return err == nil
	})
	pvc, err := kube.CoreV1().PersistentVolumeClaims("default").Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vols := []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	mounts := []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	c.createTyped(t, gvrPods, volumePod("writer", "echo persisted > /data/f && sleep 1000", vols, mounts))
	waitFor(t, "writer Running", 90*time.Second, func() bool { return c.podRunning(t, "writer", uids) })
	p, _ := c.getPod(t, "writer")
	if p.Spec.NodeName != n.name {
		t.Fatalf("writer on %q, want %s", p.Spec.NodeName, n.name)
	}
	dir := filepath.Join(storage, "pvc-"+string(pvc.UID))
	waitFor(t, "the file on the node", 30*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "f"))
		return err == nil && string(b) == "persisted\n"
	})
	got, err := kube.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data", metav1.GetOptions{})
	if err != nil || got.Status.Phase != corev1.ClaimBound || got.Annotations["volume.kubernetes.io/selected-node"] != n.name {
		t.Fatalf("claim: %v %+v", err, got)
	}

	c.deletePod(t, "writer")
	waitFor(t, "writer gone", 60*time.Second, func() bool { _, ok := c.getPod(t, "writer"); return !ok })
	c.createTyped(t, gvrPods, volumePod("reader", "cat /data/f; sleep 1000", vols, mounts))
	roVols := []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data", ReadOnly: true}}}}
	c.createTyped(t, gvrPods, volumePod("ro", "echo x > /data/g && echo wrote || echo refused; sleep 1000", roVols, mounts))
	wl := &weirCLI{c: c, t: t}
	waitFor(t, "reader and ro logs", 90*time.Second, func() bool {
		out, _, code := wl.run(nil, "logs", "reader")
		ro, _, code2 := wl.run(nil, "logs", "ro")
		return c.podRunning(t, "reader", uids) && c.podRunning(t, "ro", uids) && code == 0 && code2 == 0 &&
			strings.TrimSpace(out) == "persisted" && strings.TrimSpace(ro) != ""
	})
	if ro, _, _ := wl.run(nil, "logs", "ro"); !strings.Contains(ro, "refused") || strings.Contains(ro, "wrote") {
		t.Errorf("read-only claim: %q, want the write refused", ro)
	}
	if _, err := os.Stat(filepath.Join(dir, "g")); err == nil {
		t.Error("the read-only pod wrote to the volume")
	}
	for _, name := range []string{"reader", "ro"} {
		c.deletePod(t, name)
	}
	waitFor(t, "pods gone", 60*time.Second, func() bool {
		_, a := c.getPod(t, "reader")
		_, b := c.getPod(t, "ro")
		return !a && !b
	})
	if err := kube.CoreV1().PersistentVolumeClaims("default").Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Reclaim Delete: the agent removes the directory, then the
	// provisioner's finalizer, and the volume goes.
	waitFor(t, "the volume and its directory deleted", 30*time.Second, func() bool {
		_, err := kube.CoreV1().PersistentVolumes().Get(ctx, "pvc-"+string(pvc.UID), metav1.GetOptions{})
		_, statErr := os.Stat(dir)
		return err != nil && strings.Contains(err.Error(), "not found") && os.IsNotExist(statErr)
	})
}

// TestHostPathVolume: a pod reads a host file through a hostPath
// Directory volume (a temporary directory, never a system path) and
// writes back; DirectoryOrCreate makes a missing directory; a File
// volume on a missing path fails the kubelet's type check: a FailedMount
// event, and the pod does not start.
func TestHostPathVolume(t *testing.T) {
	c, _, uids, _ := storageNode(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "hello.txt"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirT, createT, fileT := corev1.HostPathDirectory, corev1.HostPathDirectoryOrCreate, corev1.HostPathFile
	made := filepath.Join(host, "made", "here")
	vols := []corev1.Volume{
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host, Type: &dirT}}},
		{Name: "made", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: made, Type: &createT}}},
	}
	mounts := []corev1.VolumeMount{{Name: "host", MountPath: "/host"}, {Name: "made", MountPath: "/made"}}
	c.createTyped(t, gvrPods, volumePod("hostread", "cat /host/hello.txt; echo back > /host/back.txt; touch /made/x; sleep 1000", vols, mounts))
	wl := &weirCLI{c: c, t: t}
	waitFor(t, "hostread logs", 90*time.Second, func() bool {
		out, _, code := wl.run(nil, "logs", "hostread")
		return c.podRunning(t, "hostread", uids) && code == 0 && strings.TrimSpace(out) == "from the host"
	})
	waitFor(t, "the pod's writes on the host", 30*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(host, "back.txt"))
		_, err2 := os.Stat(filepath.Join(made, "x"))
		return err == nil && string(b) == "back\n" && err2 == nil
	})

	missing := filepath.Join(host, "nope.txt")
	bad := []corev1.Volume{{Name: "f", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: missing, Type: &fileT}}}}
	c.createTyped(t, gvrPods, volumePod("badfile", "sleep 1000", bad, []corev1.VolumeMount{{Name: "f", MountPath: "/f"}}))
	kube := c.api.Kube()
	want := `MountVolume.SetUp failed for volume "f" : hostPath type check failed: ` + missing + ` is not a file`
	waitFor(t, "FailedMount event", 60*time.Second, func() bool {
		evs, err := kube.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "badfile" && e.Reason == "FailedMount" && e.Message == want && e.Type == corev1.EventTypeWarning {
				return true
			}
		}
		return false
	})
	if c.podRunning(t, "badfile", uids) {
		t.Error("badfile runs without its hostPath File")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a File hostPath was created")
	}
}
