package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

var bg = context.Background()

// start runs the controllers against a fresh API with short node timers.
func start(t *testing.T) kubernetes.Interface {
	c := kubetest.New(t)
	ctx, cancel := context.WithCancel(bg)
	var wg sync.WaitGroup
	m := controllers.New(controllers.Config{Client: c, Logger: storetest.Logger(),
		NodeGracePeriod: 2 * time.Second, EvictionTimeout: 2 * time.Second, Resync: 200 * time.Millisecond})
	wg.Go(func() { m.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return c
}

// runManager runs m until the test ends.
func runManager(t *testing.T, m *controllers.Manager) {
	ctx, cancel := context.WithCancel(bg)
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func listPods(t *testing.T, c kubernetes.Interface, ns string) []corev1.Pod {
	t.Helper()
	var l corev1.PodList
	if err := into(&l)(c.CoreV1().Pods(ns).List(bg, metav1.ListOptions{})); err != nil {
		t.Fatalf("list pods: %v", err)
	}
	return l.Items
}

// setPodStatus acts as the kubelet: phase, Ready and the pod IP.
func setPodStatus(c kubernetes.Interface, p *corev1.Pod, phase corev1.PodPhase, ready bool, ip string) error {
	up := p.DeepCopy()
	up.Status.Phase = phase
	up.Status.PodIP = ip
	if ip != "" {
		up.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	up.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.Now()}}
	return discard(c.CoreV1().Pods(p.Namespace).UpdateStatus(bg, up, metav1.UpdateOptions{}))
}

// kubelet marks every pod in ns Running and Ready with a fresh IP, until
// the test ends; ready counts are sampled into minReady by label value.
type kubelet struct {
	mu   sync.Mutex
	next int
	ips  map[string]string
}

func runKubelet(t *testing.T, c kubernetes.Interface, ns string, observe func([]corev1.Pod)) {
	ctx, cancel := context.WithCancel(bg)
	k := &kubelet{next: 1, ips: map[string]string{}}
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			k.round(c, ns, observe)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func (k *kubelet) round(c kubernetes.Interface, ns string, observe func([]corev1.Pod)) {
	var l corev1.PodList
	if err := into(&l)(c.CoreV1().Pods(ns).List(bg, metav1.ListOptions{})); err != nil {
		return
	}
	if observe != nil {
		observe(l.Items)
	}
	for i := range l.Items {
		p := &l.Items[i]
		if p.Status.PodIP != "" {
			continue
		}
		k.mu.Lock()
		ip := fmt.Sprintf("10.1.%d.%d", k.next/250, k.next%250+1)
		k.next++
		k.mu.Unlock()
		_ = setPodStatus(c, p, corev1.PodRunning, true, ip)
	}
}

func ready(p *corev1.Pod) bool { return controllers.PodReady(p) }

func eventually(t *testing.T, cond func() string) {
	t.Helper()
	kubetest.Eventually(t, 45*time.Second, cond)
}

func findEvent(c kubernetes.Interface, ns, name, reason string) string {
	var list corev1.EventList
	if err := into(&list)(c.CoreV1().Events(ns).List(bg, metav1.ListOptions{})); err != nil {
		return err.Error()
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			return ""
		}
	}
	return fmt.Sprintf("no %s event on %s", reason, name)
}

// into stores a typed call's answer into dst and returns its error.
func into[T any](dst *T) func(*T, error) error {
	return func(v *T, err error) error {
		if err == nil {
			*dst = *v
		}
		return err
	}
}

// discard drops a typed call's answer and returns its error.
func discard[T any](_ *T, err error) error { return err }

// delOpts are delete options conditional on uid when it is set.
func delOpts(uid types.UID) metav1.DeleteOptions {
	if uid == "" {
		return metav1.DeleteOptions{}
	}
	return metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// propagate are delete options with a propagation policy, conditional on
// uid when it is set.
func propagate(uid types.UID, policy metav1.DeletionPropagation) metav1.DeleteOptions {
	o := delOpts(uid)
	o.PropagationPolicy = &policy
	return o
}

// deleteInto deletes default/name of resource through rc and decodes the
// API's answer (the object's last or current state) into out.
func deleteInto(rc rest.Interface, resource, name string, opts metav1.DeleteOptions, out runtime.Object) error {
	return rc.Delete().Namespace("default").Resource(resource).Name(name).Body(&opts).Do(bg).Into(out)
}
