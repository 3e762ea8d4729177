// Package controllerstest runs weir's real controllers against a test API
// together with a stand-in kubelet, for tests of clients that drive
// workloads (rollout status, scale) without real nodes.
package controllerstest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/store/storetest"
)

// StartWorkloads runs the controllers (resync 200 ms) against the API at
// url, and a stand-in kubelet that, while the returned switch is on,
// marks the default namespace's pods Running and Ready through
// pods/status, as an agent does once containers pass readiness.
// Everything stops at the end of the test.
func StartWorkloads(t testing.TB, url, token, ipPrefix string) *atomic.Bool {
	t.Helper()
	kc, err := kube.NewClientset(&rest.Config{Host: url, BearerToken: token}, "controllerstest")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := controllers.New(controllers.Config{Client: kc, Logger: storetest.Logger(), Resync: 200 * time.Millisecond})
	var on atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	wg.Go(func() {
		for ctx.Err() == nil {
			if on.Load() {
				markPodsReady(ctx, kc, ipPrefix)
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &on
}

// markPodsReady writes what an agent writes for pods that became ready.
func markPodsReady(ctx context.Context, kc kubernetes.Interface, ipPrefix string) {
	l, err := kc.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range l.Items {
		p := &l.Items[i]
		if controllers.PodReady(p) || p.DeletionTimestamp != nil {
			continue
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP = fmt.Sprintf("%s.%d", ipPrefix, i+1)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		_, _ = kc.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	}
}
