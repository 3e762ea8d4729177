package controllers_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
	"github.com/weirnet/weir/control/controllers/kube/kubetest"
	"github.com/weirnet/weir/control/store/storetest"
)

func createNode(t *testing.T, c kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	n := &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := discard(c.CoreV1().Nodes().Create(bg, n, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
}

// daemonPods maps node -> "image/hash" of the live pods of the DaemonSet
// app in default, from the metadata.name term that pins each to its node.
func daemonPods(t *testing.T, c kubernetes.Interface, app string) map[string][]string {
	out := map[string][]string{}
	for _, p := range listPods(t, c, "default") {
		if p.Labels["app"] != app || p.DeletionTimestamp != nil {
			continue
		}
		a := p.Spec.Affinity
		if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			t.Fatalf("pod %s has no node affinity", p.Name)
		}
		node := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0]
		out[node] = append(out[node], p.Spec.Containers[0].Image+"/"+p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey])
	}
	return out
}

func nodesOf(m map[string][]string) string {
	var ns []string
	for n, ps := range m {
		ns = append(ns, fmt.Sprintf("%s:%d", n, len(ps)))
	}
	sort.Strings(ns)
	return strings.Join(ns, " ")
}

// TestDaemonSet: one pod per matching node (pinned by node affinity, with
// the daemon tolerations), a node that joins later gets one, a node that
// stops matching the node selector loses it, status counts follow the
// kubelet, and a template change rolls node by node within maxUnavailable
// 1, with a ControllerRevision per template; deleting the DaemonSet lets
// the garbage collector take its pods.
func TestDaemonSet(t *testing.T) {
	// nodes without heartbeats: a long grace period keeps the node
	// lifecycle controller's unreachable NoSchedule taint (which daemon
	// pods do not tolerate) away
	c := kubetest.New(t)
	runManager(t, controllers.New(controllers.Config{Client: c, Logger: storetest.Logger(), NodeGracePeriod: time.Hour,
		Resync: 200 * time.Millisecond}))
	for _, n := range []string{"n1", "n2"} {
		createNode(t, c, n, map[string]string{"pool": "a"})
	}
	createNode(t, c, "other", nil)
	mu := intstr.FromInt32(1)
	ds := &appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{Kind: "DaemonSet", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: podTemplate("agent", "v1"),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &mu}}}}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"pool": "a"}
	if err := into(ds)(c.AppsV1().DaemonSets("default").Create(bg, ds, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	// the kubelet: pods become Running and Ready; during the roll at most
	// one of the three nodes may lack a ready pod
	var mu2 sync.Mutex
	worst, rolling := 0, false
	runKubelet(t, c, "default", func(pods []corev1.Pod) {
		readyNodes := map[string]bool{}
		for _, p := range pods {
			if p.Labels["app"] == "agent" && ready(&p) && p.DeletionTimestamp == nil {
				readyNodes[p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0]] = true
			}
		}
		mu2.Lock()
		if rolling {
			worst = max(worst, 3-len(readyNodes))
		}
		mu2.Unlock()
	})
	status := func(want string) func() string {
		return func() string {
			var got appsv1.DaemonSet
			if err := into(&got)(c.AppsV1().DaemonSets("default").Get(bg, "agent", metav1.GetOptions{})); err != nil {
				return err.Error()
			}
			s := got.Status
			have := fmt.Sprintf("desired=%d current=%d ready=%d updated=%d available=%d gen=%d/%d", s.DesiredNumberScheduled,
				s.CurrentNumberScheduled, s.NumberReady, s.UpdatedNumberScheduled, s.NumberAvailable, s.ObservedGeneration, got.Generation)
			if have != want {
				return "status " + have + ", want " + want
			}
			return ""
		}
	}
	nodes := func(want string) func() string {
		return func() string {
			if got := nodesOf(daemonPods(t, c, "agent")); got != want {
				return "daemon pods on " + got + ", want " + want
			}
			return ""
		}
	}
	eventually(t, nodes("n1:1 n2:1"))
	eventually(t, status("desired=2 current=2 ready=2 updated=2 available=2 gen=1/1"))
	var p corev1.Pod
	for _, p = range listPods(t, c, "default") {
		break
	}
	tolerated := map[string]bool{}
	for _, tol := range p.Spec.Tolerations {
		tolerated[tol.Key] = true
	}
	if !tolerated[corev1.TaintNodeUnreachable] || !tolerated[corev1.TaintNodeUnschedulable] || controllersOwner(&p) != ds.UID {
		t.Fatalf("daemon pod tolerations %v owner %v", p.Spec.Tolerations, p.OwnerReferences)
	}

	createNode(t, c, "n3", map[string]string{"pool": "a"}) // joins later
	eventually(t, nodes("n1:1 n2:1 n3:1"))
	eventually(t, status("desired=3 current=3 ready=3 updated=3 available=3 gen=1/1"))

	// roll to v2, one node at a time
	if err := into(ds)(c.AppsV1().DaemonSets("default").Get(bg, "agent", metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	tplV1 := *ds.Spec.Template.DeepCopy()
	ds.Spec.Template.Spec.Containers[0].Image = "v2"
	mu2.Lock()
	rolling = true
	mu2.Unlock()
	if err := into(ds)(c.AppsV1().DaemonSets("default").Update(bg, ds, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		for n, ps := range daemonPods(t, c, "agent") {
			if len(ps) != 1 || !strings.HasPrefix(ps[0], "v2/") {
				return fmt.Sprintf("node %s runs %v", n, ps)
			}
		}
		return status("desired=3 current=3 ready=3 updated=3 available=3 gen=2/2")()
	})
	// one ControllerRevision per template, the current one newest
	eventually(t, func() string {
		var l appsv1.ControllerRevisionList
		if err := into(&l)(c.AppsV1().ControllerRevisions("default").List(bg, metav1.ListOptions{})); err != nil {
			return err.Error()
		}
		var got []string
		for _, r := range l.Items {
			got = append(got, fmt.Sprintf("%d:%s", r.Revision, r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]))
		}
		sort.Strings(got)
		want := []string{"1:" + controllers.TemplateHash(&tplV1), "2:" + controllers.TemplateHash(&ds.Spec.Template)}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			return fmt.Sprintf("revisions %v, want %v", got, want)
		}
		return ""
	})
	mu2.Lock()
	rolling = false
	if worst > 1 {
		t.Errorf("%d daemon pods unavailable at once during the roll, maxUnavailable 1", worst)
	}
	if worst == 0 {
		t.Errorf("the roll never made a pod unavailable: nothing was replaced")
	}
	mu2.Unlock()

	// n1 leaves the pool: its pod goes
	var n1 corev1.Node
	if err := into(&n1)(c.CoreV1().Nodes().Get(bg, "n1", metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	n1.Labels = map[string]string{"pool": "b"}
	if err := discard(c.CoreV1().Nodes().Update(bg, &n1, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, nodes("n2:1 n3:1"))
	eventually(t, status("desired=2 current=2 ready=2 updated=2 available=2 gen=2/2"))

	if err := c.AppsV1().DaemonSets("default").Delete(bg, "agent", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, nodes(""))
	eventually(t, func() string {
		var l appsv1.ControllerRevisionList
		if err := into(&l)(c.AppsV1().ControllerRevisions("default").List(bg, metav1.ListOptions{})); err != nil || len(l.Items) > 0 {
			return fmt.Sprintf("revisions left: %d %v", len(l.Items), err)
		}
		return ""
	})
}

func controllersOwner(p *corev1.Pod) types.UID {
	for _, r := range p.OwnerReferences {
		if r.Controller != nil && *r.Controller && r.Kind == "DaemonSet" {
			return r.UID
		}
	}
	return ""
}
