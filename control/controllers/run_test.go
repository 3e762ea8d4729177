package controllers_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/scheduler"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestLeaderTermStopsEverything: the scheduler and the controllers over
// one shared informer factory, as a leader term runs them, leave no
// goroutine behind once their context ends and the factory is shut down
// (informers, work queues, workers, tickers).
func TestLeaderTermStopsEverything(t *testing.T) {
	cfg := kubetest.NewConfig(t)
	c, err := kube.NewClientset(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Namespaces().List(bg, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	closeIdle := func() {
		if rc, ok := c.CoreV1().RESTClient().(*rest.RESTClient); ok {
			rc.Client.CloseIdleConnections()
		}
	}
	closeIdle()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(bg)
	f := kube.NewInformerFactory(c)
	var wg sync.WaitGroup
	s := scheduler.New(scheduler.Config{Client: c, Informers: f, Logger: storetest.Logger()})
	m := controllers.New(controllers.Config{Client: c, Informers: f, Logger: storetest.Logger(), Resync: 100 * time.Millisecond, RootCA: []byte("ca")})
	wg.Go(func() { s.Run(ctx) })
	wg.Go(func() { m.Run(ctx) })
	eventually(t, func() string { // the namespace controller ran: the caches synced and the workers work
		_, err := c.CoreV1().ServiceAccounts("kube-system").Get(bg, "default", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		return ""
	})
	running := runtime.NumGoroutine()
	t.Logf("%d goroutines before, %d while running", before, running)
	cancel()
	wg.Wait()
	f.Shutdown()
	eventually(t, func() string {
		closeIdle()
		if n := runtime.NumGoroutine(); n > before+5 {
			return fmt.Sprintf("%d goroutines after stop, %d before start, %d while running", n, before, running)
		}
		return ""
	})
}
