package member

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestLeaderLoops: a single member (so the leader) runs the controllers
// and the scheduler: a ReplicaSet's pods are created and bound to the node.
func TestLeaderLoops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := Start(ctx, Config{Name: "m1", DataDir: t.TempDir(), Listen: "127.0.0.1:0", Peer: "127.0.0.1:0",
		Bootstrap: true, Logger: storetest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	wait := m.StartLeaderLoops(ctx, controllers.Config{Resync: 200 * time.Millisecond})
	defer func() { cancel(); wait() }()
	if err := m.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := kube.NewClientset(m.leaderRESTConfig(), "test")
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("10")}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
	if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	two := int32(2)
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
	if _, err := c.AppsV1().ReplicaSets("default").Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, 45*time.Second, func() string {
		l, err := c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		bound := 0
		for _, p := range l.Items {
			if p.Spec.NodeName == "node-a" {
				bound++
			}
		}
		if len(l.Items) != 2 || bound != 2 {
			return fmt.Sprintf("%d pods, %d bound to node-a", len(l.Items), bound)
		}
		return ""
	})
}
