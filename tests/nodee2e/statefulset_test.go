package nodee2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/node/runtime/testimage"
)

var gvrStatefulSets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}

const stsApp = "sts-e2e"

// TestStatefulSetRealRuntime: a StatefulSet of two on a real node starts
// sts-e2e-0 and then sts-e2e-1 in containerd, each Running and Ready with
// its hostname and subdomain; a deleted pod is stopped by the runtime and
// comes back as a new pod under the same name; deleted, the garbage
// collector removes its pods and the runtime stops them.
func TestStatefulSetRealRuntime(t *testing.T) {
	c, n1, sock, uids := onePodNode(t)

	grace, replicas := int64(2), int32(2)
	labels := map[string]string{"app": stsApp}
	c.createTyped(t, gvrStatefulSets, &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: stsApp, Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: stsApp, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{Name: "srv", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
						Args: []string{"-udp-echo="}, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}}}}})
	// pods: name -> uid of the live pods that are Running and Ready
	pods := func() map[string]string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		list, err := c.api.List(ctx, gvrPods, "default", listOpts("app="+stsApp))
		if err != nil {
			return nil
		}
		out := map[string]string{}
		for _, item := range list.Items {
			var p corev1.Pod
			if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &p); err != nil {
				t.Fatalf("decode pod: %v", err)
			}
			uids.add(string(p.UID))
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
				continue
			}
			if p.Spec.Hostname != p.Name || p.Spec.Subdomain != stsApp {
				t.Errorf("pod %s: hostname %q subdomain %q", p.Name, p.Spec.Hostname, p.Spec.Subdomain)
			}
			for _, cd := range p.Status.Conditions {
				if cd.Type == corev1.PodReady && cd.Status == corev1.ConditionTrue {
					out[p.Name] = string(p.UID)
				}
			}
		}
		return out
	}
	names := func(m map[string]string) string {
		var ns []string
		for n := range m {
			ns = append(ns, n)
		}
		sort.Strings(ns)
		return strings.Join(ns, " ")
	}
	status := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		obj, err := c.api.Get(ctx, gvrStatefulSets, "default", stsApp)
		if err != nil {
			return err.Error()
		}
		var ss appsv1.StatefulSet
		_ = kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &ss)
		s := ss.Status
		return fmt.Sprintf("%d/%d/%d/%d/%d", s.Replicas, s.ReadyReplicas, s.CurrentReplicas, s.UpdatedReplicas, s.AvailableReplicas)
	}
	start := time.Now()
	waitFor(t, "sts-e2e-0 and sts-e2e-1 Running and Ready", 90*time.Second, func() bool {
		return names(pods()) == stsApp+"-0 "+stsApp+"-1" && status() == "2/2/2/2/2"
	})
	t.Logf("created -> both pods Ready: %v", time.Since(start).Round(time.Millisecond))

	before := pods()[stsApp+"-0"]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.api.Delete(ctx, gvrPods, "default", stsApp+"-0"); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	deleted := time.Now()
	waitFor(t, "sts-e2e-0 back under its name, a new pod, Running and Ready", 90*time.Second, func() bool {
		now := pods()
		return now[stsApp+"-0"] != "" && now[stsApp+"-0"] != before && len(now) == 2
	})
	t.Logf("deleted -> recreated and Ready: %v", time.Since(deleted).Round(time.Millisecond))

	if err := c.api.Delete(ctx, gvrStatefulSets, "default", stsApp); err != nil {
		t.Fatalf("delete StatefulSet: %v", err)
	}
	waitFor(t, "stateful pods stopped and removed", 60*time.Second, func() bool {
		k, err := containerCount(sock, "weir-"+n1.name)
		return err == nil && k == 0 && len(pods()) == 0 && !uids.anyNetns()
	})
}

// TestStatefulSetVolumeRealRuntime: a StatefulSet with a claim template
// on a real node with the local-path provisioner: the controller makes
// the claim data-vol-e2e-0, the scheduler and provisioner give it a
// volume on the node, and the pod appends a line to a file on it at
// each start; deleted, the pod comes back under its name on the same
// claim and finds the first start's line there.
func TestStatefulSetVolumeRealRuntime(t *testing.T) {
	c, n, uids, storage := storageNode(t)
	kube := c.api.Kube()
	ctx := context.Background()
	waitFor(t, "StorageClass local-path", 30*time.Second, func() bool {
		_, err := kube.StorageV1().StorageClasses().Get(ctx, "local-path", metav1.GetOptions{})
		return err == nil
	})
	const name = "vol-e2e"
	grace, replicas := int64(1), int32(1)
	labels := map[string]string{"app": name}
	c.createTyped(t, gvrStatefulSets, &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: labels},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
						Command:      []string{"/bin/sh", "-c", "echo start >> /data/starts && sleep 1000"},
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}}}}}})
	pod := name + "-0"
	waitFor(t, pod+" Running", 90*time.Second, func() bool { return c.podRunning(t, pod, uids) })
	first, _ := c.getPod(t, pod)
	if first.Spec.NodeName != n.name {
		t.Fatalf("%s on %q, want %s", pod, first.Spec.NodeName, n.name)
	}
	pvc, err := kube.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data-"+pod, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the pod's claim: %v", err)
	}
	starts := filepath.Join(storage, "pvc-"+string(pvc.UID), "starts")
	read := func() string { b, _ := os.ReadFile(starts); return string(b) }
	waitFor(t, "the first start's line on the node", 30*time.Second, func() bool { return read() == "start\n" })

	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.api.Delete(dctx, gvrPods, "default", pod); err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	waitFor(t, pod+" back, a new pod, Running", 90*time.Second, func() bool {
		p, ok := c.getPod(t, pod)
		return ok && p.UID != first.UID && c.podRunning(t, pod, uids)
	})
	waitFor(t, "both starts' lines on the same volume", 30*time.Second, func() bool { return read() == "start\nstart\n" })
	again, err := kube.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data-"+pod, metav1.GetOptions{})
	if err != nil || again.UID != pvc.UID {
		t.Fatalf("the claim was replaced: %v %v", again, err)
	}
}
