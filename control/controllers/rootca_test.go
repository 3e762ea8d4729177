package controllers_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestRootCAPublisher: every namespace, old and new, gets
// kube-root-ca.crt with exactly the cluster CA, and a changed or deleted
// one is put back.
func TestRootCAPublisher(t *testing.T) {
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	c := kubetest.New(t)
	runManager(t, controllers.New(controllers.Config{Client: c, Logger: storetest.Logger(), RootCA: []byte(ca), Resync: 200 * time.Millisecond}))
	published := func(ns string) func() string {
		return func() string {
			cm, err := c.CoreV1().ConfigMaps(ns).Get(bg, "kube-root-ca.crt", metav1.GetOptions{})
			switch {
			case err != nil:
				return err.Error()
			case len(cm.Data) != 1 || cm.Data["ca.crt"] != ca:
				return "data " + cm.Data["ca.crt"]
			case cm.Annotations["kubernetes.io/description"] == "":
				return "no description"
			}
			return ""
		}
	}
	eventually(t, published("default"))
	eventually(t, published("kube-system"))
	if _, err := c.CoreV1().Namespaces().Create(bg, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, published("fresh"))

	cm, err := c.CoreV1().ConfigMaps("fresh").Get(bg, "kube-root-ca.crt", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{"ca.crt": "forged", "extra": "x"}
	if _, err := c.CoreV1().ConfigMaps("fresh").Update(bg, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, published("fresh"))
	if err := c.CoreV1().ConfigMaps("fresh").Delete(bg, "kube-root-ca.crt", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, published("fresh"))
}
