package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/localcluster"
)

var (
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrServices    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrSlices      = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

const demo = "demo" // the Deployment and Services `weir up` deploys

// env is a running local cluster and a client of its API.
type env struct {
	t       *testing.T
	ctx     context.Context
	bin     string
	cfg     localcluster.Config
	lc      *localcluster.Cluster
	api     *client.Client
	started time.Time
}

// pod is a demo pod as the tests see it.
type pod struct {
	Name, UID, Node, IP string
	Ready, Terminating  bool
}

// demoPods lists the demo pods.
func (e *env) demoPods() ([]pod, error) {
	list, err := e.api.List(e.ctx, gvrPods, "default", client.ListOptions{LabelSelector: "app=" + demo})
	if err != nil {
		return nil, err
	}
	var out []pod
	for _, item := range list.Items {
		var p corev1.Pod
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(item.Object, &p); err != nil {
			return nil, err
		}
		ready := false
		for _, c := range p.Status.Conditions {
			ready = ready || (c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue)
		}
		out = append(out, pod{Name: p.Name, UID: string(p.UID), Node: p.Spec.NodeName, IP: p.Status.PodIP,
			Ready: ready && p.Status.Phase == corev1.PodRunning, Terminating: p.DeletionTimestamp != nil})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readyPods are the demo pods that are Ready and not terminating.
func (e *env) readyPods() []pod {
	ps, err := e.demoPods()
	if err != nil {
		return nil
	}
	var out []pod
	for _, p := range ps {
		if p.Ready && !p.Terminating {
			out = append(out, p)
		}
	}
	return out
}

// podPID finds the container process of p on its node.
func (e *env) podPID(p pod) (uint32, error) {
	pids, err := e.lc.PodPIDs(e.ctx, p.Node)
	if err != nil {
		return 0, err
	}
	pid, ok := pids[p.UID]
	if !ok {
		return 0, fmt.Errorf("no running container of pod %s on %s", p.Name, p.Node)
	}
	return pid, nil
}

// updateDeployment applies change to the demo Deployment, retrying on
// conflicts and while the API has no leader.
func (e *env) updateDeployment(change func(*appsv1.Deployment)) error {
	var last error
	err := e.waitFor("update Deployment demo", 30*time.Second, func() bool {
		obj, err := e.api.Get(e.ctx, gvrDeployments, "default", demo)
		if err != nil {
			last = err
			return false
		}
		var d appsv1.Deployment
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &d); err != nil {
			last = err
			return false
		}
		change(&d)
		m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(&d)
		if err != nil {
			last = err
			return false
		}
		_, last = e.api.Update(e.ctx, gvrDeployments, "default", &unstructured.Unstructured{Object: m})
		return last == nil
	})
	if err != nil {
		return fmt.Errorf("%w: %v", err, last)
	}
	return nil
}

// rolledOut: the Deployment's status shows every replica updated and
// available, and exactly want demo pods exist.
func (e *env) rolledOut(want int) bool {
	obj, err := e.api.Get(e.ctx, gvrDeployments, "default", demo)
	if err != nil {
		return false
	}
	var d appsv1.Deployment
	if kruntime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &d) != nil {
		return false
	}
	st := d.Status
	if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != int32(want) || st.AvailableReplicas != int32(want) || st.Replicas != int32(want) {
		return false
	}
	ps, err := e.demoPods()
	return err == nil && len(ps) == want && len(e.readyPods()) == want
}

// clusterIP and nodePort of the demo Services.
func (e *env) demoService() (string, int64) {
	e.t.Helper()
	svc, err := e.api.Get(e.ctx, gvrServices, "default", demo)
	if err != nil {
		e.t.Fatalf("read Service demo: %v", err)
	}
	ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP")
	np, err := e.api.Get(e.ctx, gvrServices, "default", demo+"-nodeport")
	if err != nil {
		e.t.Fatalf("read Service demo-nodeport: %v", err)
	}
	ports, _, _ := unstructured.NestedSlice(np.Object, "spec", "ports")
	var port int64
	if len(ports) > 0 {
		port, _, _ = unstructured.NestedInt64(ports[0].(map[string]any), "nodePort")
	}
	if ip == "" || port == 0 {
		e.t.Fatalf("demo Services: ClusterIP %q, NodePort %d", ip, port)
	}
	return ip, port
}

// waitFor polls cond every 200 ms for up to d.
func (e *env) waitFor(what string, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", d, what)
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// logf logs with the time since the cluster came up.
func (e *env) logf(format string, a ...any) {
	e.t.Helper()
	e.t.Logf("[%6.1fs] %s", time.Since(e.started).Seconds(), fmt.Sprintf(format, a...))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
