package controllers_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

// quotaUsed waits until the quota's status.used is want (name -> value).
func quotaUsed(t *testing.T, c kubernetes.Interface, ns, name string, want map[corev1.ResourceName]string) {
	t.Helper()
	eventually(t, func() string {
		q, err := c.CoreV1().ResourceQuotas(ns).Get(bg, name, metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		for n, v := range want {
			got, ok := q.Status.Used[n]
			if !ok || got.Cmp(resource.MustParse(v)) != 0 {
				return fmt.Sprintf("status.used = %v, want %s=%s", q.Status.Used, n, v)
			}
		}
		return ""
	})
}

// TestQuotaControllerRecounts: the quota controller lowers status.used
// when pods are deleted or finish and when other counted objects are
// deleted, and puts back a status.used someone overwrote.
func TestQuotaControllerRecounts(t *testing.T) {
	c := kubetest.New(t)
	runManager(t, controllers.New(controllers.Config{Client: c, Logger: storetest.Logger(),
		Resync: 200 * time.Millisecond, QuotaResync: 300 * time.Millisecond}))
	const ns = "quota"
	if _, err := c.CoreV1().Namespaces().Create(bg, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hard := corev1.ResourceList{"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("1"),
		"configmaps": resource.MustParse("2"), "count/deployments.apps": resource.MustParse("1")}
	if _, err := c.CoreV1().ResourceQuotas(ns).Create(bg, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"},
		Spec: corev1.ResourceQuotaSpec{Hard: hard}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var pods []*corev1.Pod
	for i := range 3 {
		p, err := c.CoreV1().Pods(ns).Create(bg, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": resource.MustParse("300m")}}}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create pod %d: %v", i, err)
		}
		pods = append(pods, p)
	}
	if _, err := c.CoreV1().ConfigMaps(ns).Create(bg, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	quotaUsed(t, c, ns, "q", map[corev1.ResourceName]string{"pods": "3", "requests.cpu": "900m", "configmaps": "1", "count/deployments.apps": "0"})

	if err := c.CoreV1().Pods(ns).Delete(bg, "p0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	quotaUsed(t, c, ns, "q", map[corev1.ResourceName]string{"pods": "2", "requests.cpu": "600m"})

	if err := setPodStatus(c, pods[1], corev1.PodSucceeded, false, ""); err != nil {
		t.Fatal(err)
	}
	quotaUsed(t, c, ns, "q", map[corev1.ResourceName]string{"pods": "1", "requests.cpu": "300m"})

	// ConfigMaps have no informer here: the periodic recount releases them.
	if err := c.CoreV1().ConfigMaps(ns).Delete(bg, "cm", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	quotaUsed(t, c, ns, "q", map[corev1.ResourceName]string{"configmaps": "0"})

	// An overwritten status.used is put back.
	q, err := c.CoreV1().ResourceQuotas(ns).Get(bg, "q", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q.Status.Used["pods"] = resource.MustParse("9")
	if _, err := c.CoreV1().ResourceQuotas(ns).UpdateStatus(bg, q, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	quotaUsed(t, c, ns, "q", map[corev1.ResourceName]string{"pods": "1"})
}
