package controllers_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestEventTTL: an Event last seen longer ago than the TTL is deleted; one
// seen recently, or repeated recently (lastTimestamp), stays.
func TestEventTTL(t *testing.T) {
	c := kubetest.New(t)
	old := metav1.NewTime(time.Now().Add(-2 * time.Hour))
	for name, last := range map[string]metav1.Time{"old": old, "repeated": metav1.Now(), "fresh": {}} {
		e := &corev1.Event{TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "v1"},
			ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: "default"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p"},
			Reason:         "Test", Message: name, Type: corev1.EventTypeNormal, Count: 1}
		if name != "fresh" {
			e.FirstTimestamp, e.LastTimestamp = old, last
		}
		if err := discard(c.CoreV1().Events("default").Create(bg, e, metav1.CreateOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	startWith(t, c, controllers.Config{EventTTL: time.Hour})
	kubetest.Eventually(t, 30*time.Second, func() string {
		var l corev1.EventList
		if err := into(&l)(c.CoreV1().Events("default").List(bg, metav1.ListOptions{})); err != nil {
			return err.Error()
		}
		var names []string
		for _, e := range l.Items {
			if e.Reason == "Test" {
				names = append(names, e.Name)
			}
		}
		if len(names) != 2 || names[0] == "old" || names[1] == "old" {
			return fmt.Sprintf("events %v, want fresh and repeated only", names)
		}
		return ""
	})
}

// startWith runs the controllers on c with cfg (Client, Logger and a short
// Resync filled in) until the test ends.
func startWith(t *testing.T, c kubernetes.Interface, cfg controllers.Config) {
	cfg.Client, cfg.Logger, cfg.Resync = c, storetest.Logger(), 200*time.Millisecond
	runManager(t, controllers.New(cfg))
}
