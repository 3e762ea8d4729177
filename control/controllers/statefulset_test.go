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
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
)

func newStatefulSet(name string, replicas int32, policy appsv1.PodManagementPolicyType) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{Kind: "StatefulSet", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, PodManagementPolicy: policy, ServiceName: name,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, "v1")}}
}

// orderedKubelet acts as the kubelet for the pods of set app: it makes
// one not-ready pod Running and Ready per round, lowest ordinal first,
// and fails the test when a pod it sees for the first time has a lower
// ordinal that is missing or not ready (OrderedReady creates ordinal n
// only after n-1 is Running and Ready).
func orderedKubelet(t *testing.T, c kubernetes.Interface, app string) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	seen := map[types.UID]bool{}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			byOrd := map[int]*corev1.Pod{}
			var fresh []int
			for _, p := range listPods(t, c, "default") {
				if p.Labels["app"] != app || p.DeletionTimestamp != nil {
					continue
				}
				ord := controllers.StatefulPodOrdinal(app, &p)
				byOrd[ord] = &p
				if !seen[p.UID] {
					seen[p.UID] = true
					fresh = append(fresh, ord)
				}
			}
			for _, n := range fresh {
				for ord := range n {
					if p := byOrd[ord]; p == nil || !ready(p) {
						t.Errorf("%s-%d was created while %s-%d was missing or not ready", app, n, app, ord)
					}
				}
			}
			ords := make([]int, 0, len(byOrd))
			for ord := range byOrd {
				ords = append(ords, ord)
			}
			sort.Ints(ords)
			for _, ord := range ords {
				if p := byOrd[ord]; !ready(p) {
					_ = setPodStatus(c, p, corev1.PodRunning, true, fmt.Sprintf("10.2.0.%d", ord+1))
					break
				}
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// stsPods is "name=image/revision,..." of the live pods of app.
func stsPods(t *testing.T, c kubernetes.Interface, app string) string {
	var out []string
	for _, p := range listPods(t, c, "default") {
		if p.Labels["app"] == app && p.DeletionTimestamp == nil {
			out = append(out, p.Name+"="+p.Spec.Containers[0].Image+"/"+p.Labels[appsv1.ControllerRevisionHashLabelKey])
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// deletions records the names of app's pods in the order the API deleted
// them.
func deletions(t *testing.T, c kubernetes.Interface, app string) func() []string {
	w, err := c.CoreV1().Pods("default").Watch(bg, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var names []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for ev := range w.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Deleted {
				mu.Lock()
				names = append(names, p.Name)
				mu.Unlock()
			}
		}
	})
	t.Cleanup(func() { w.Stop(); wg.Wait() })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := names
		names = nil
		return out
	}
}

func stsStatus(c kubernetes.Interface, name, want string) func() string {
	return func() string {
		var ss appsv1.StatefulSet
		if err := into(&ss)(c.AppsV1().StatefulSets("default").Get(bg, name, metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		s := ss.Status
		cur, upd := "old", "new"
		if s.CurrentRevision == s.UpdateRevision {
			cur = "new"
		}
		have := fmt.Sprintf("replicas=%d ready=%d current=%d updated=%d available=%d revision=%s/%s gen=%d/%d", s.Replicas, s.ReadyReplicas,
			s.CurrentReplicas, s.UpdatedReplicas, s.AvailableReplicas, cur, upd, s.ObservedGeneration, ss.Generation)
		if have != want {
			return "status " + have + ", want " + want
		}
		return ""
	}
}

// TestStatefulSetOrderedReady against a real store and API: pods web-0,
// web-1, web-2 start in order, each once the one before is Running and
// Ready; a deleted pod comes back under its name; scaling down through
// the scale subresource removes the highest ordinals first, one at a
// time; a partitioned rolling update replaces only the ordinals at or
// above the partition, highest first, and lowering the partition
// finishes it; each template has a ControllerRevision.
func TestStatefulSetOrderedReady(t *testing.T) {
	c := start(t)
	gone := deletions(t, c, "web")
	orderedKubelet(t, c, "web")
	ss := newStatefulSet("web", 3, appsv1.OrderedReadyPodManagement)
	if err := discard(c.AppsV1().StatefulSets("default").Create(bg, ss, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	// its headless Service: the slices carry each pod's hostname, from
	// which cluster DNS answers web-N.web.default.svc (dns/zone_test.go)
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if err := discard(c.CoreV1().Services("default").Create(bg, svc, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, stsStatus(c, "web", "replicas=3 ready=3 current=3 updated=3 available=3 revision=new/new gen=1/1"))
	eventually(t, func() string {
		l, err := c.DiscoveryV1().EndpointSlices("default").List(bg, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=web"})
		if err != nil {
			return err.Error()
		}
		var hosts []string
		for _, sl := range l.Items {
			for _, ep := range sl.Endpoints {
				if ep.Hostname != nil && ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					hosts = append(hosts, *ep.Hostname)
				}
			}
		}
		sort.Strings(hosts)
		if got := strings.Join(hosts, " "); got != "web-0 web-1 web-2" {
			return "ready slice hostnames " + got
		}
		return ""
	})
	var pods []corev1.Pod
	for _, p := range listPods(t, c, "default") {
		if p.Labels["app"] == "web" {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(a, b int) bool { return pods[a].Name < pods[b].Name })
	for i, p := range pods {
		name := fmt.Sprintf("web-%d", i)
		if p.Name != name || p.Spec.Hostname != name || p.Spec.Subdomain != "web" || p.Labels[appsv1.StatefulSetPodNameLabel] != name ||
			p.Labels[appsv1.PodIndexLabel] != fmt.Sprint(i) || !strings.HasPrefix(p.Labels[appsv1.ControllerRevisionHashLabelKey], "web-") {
			t.Errorf("pod %d: %s hostname %s subdomain %s labels %v", i, p.Name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
	}

	// a deleted pod comes back under its name
	old := pods[1].UID
	if err := c.CoreV1().Pods("default").Delete(bg, "web-1", delOpts(old)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		var p corev1.Pod
		if err := into(&p)(c.CoreV1().Pods("default").Get(bg, "web-1", metav1.GetOptions{})); err != nil {
			return err.Error()
		}
		if p.UID == old || !ready(&p) {
			return "web-1 not replaced yet"
		}
		return ""
	})
	eventually(t, stsStatus(c, "web", "replicas=3 ready=3 current=3 updated=3 available=3 revision=new/new gen=1/1"))
	gone()

	// a partitioned rolling update: web-2, then web-1; web-0 stays
	var cur appsv1.StatefulSet
	if err := into(&cur)(c.AppsV1().StatefulSets("default").Get(bg, "web", metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Template.Spec.Containers[0].Image = "v2"
	cur.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: int32p(1)}}
	if err := discard(c.AppsV1().StatefulSets("default").Update(bg, &cur, metav1.UpdateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, stsStatus(c, "web", "replicas=3 ready=3 current=1 updated=2 available=3 revision=old/new gen=2/2"))
	images := func(want string) func() string {
		return func() string {
			got := stsPods(t, c, "web")
			var short []string
			for _, p := range strings.Split(got, ",") {
				name, rest, _ := strings.Cut(p, "=")
				short = append(short, name+"="+strings.Split(rest, "/")[0])
			}
			if s := strings.Join(short, ","); s != want {
				return "pods " + s + ", want " + want
			}
			return ""
		}
	}
	eventually(t, images("web-0=v1,web-1=v2,web-2=v2"))
	if got := strings.Join(gone(), " "); got != "web-2 web-1" {
		t.Errorf("rolling update deleted %q, want web-2 then web-1", got)
	}
	revs, err := c.AppsV1().ControllerRevisions("default").List(bg, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(revs.Items) != 2 {
		t.Fatalf("revisions %v %v", revs, err)
	}
	// partition 0 finishes the roll
	if err := discard(c.AppsV1().StatefulSets("default").Patch(bg, "web", types.MergePatchType,
		[]byte(`{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}`), metav1.PatchOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, stsStatus(c, "web", "replicas=3 ready=3 current=3 updated=3 available=3 revision=new/new gen=3/3"))
	eventually(t, images("web-0=v2,web-1=v2,web-2=v2"))
	gone()

	// scale down through the scale subresource: web-2, then web-1
	sc, err := c.AppsV1().StatefulSets("default").GetScale(bg, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = 1
	if _, err := c.AppsV1().StatefulSets("default").UpdateScale(bg, "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, stsStatus(c, "web", "replicas=1 ready=1 current=1 updated=1 available=1 revision=new/new gen=4/4"))
	if got := strings.Join(gone(), " "); got != "web-2 web-1" {
		t.Errorf("scale down deleted %q, want web-2 then web-1", got)
	}
	eventually(t, func() string { return findEvent(c, "default", "web", "SuccessfulDelete") })
}

// TestStatefulSetParallel: Parallel creates every pod at once without
// waiting for any to become ready, and scales down all at once.
func TestStatefulSetParallel(t *testing.T) {
	c := start(t)
	ss := newStatefulSet("par", 3, appsv1.ParallelPodManagement)
	if err := discard(c.AppsV1().StatefulSets("default").Create(bg, ss, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		got := stsPods(t, c, "par")
		if strings.Count(got, "=") != 3 {
			return "pods " + got
		}
		return ""
	})
	eventually(t, stsStatus(c, "par", "replicas=3 ready=0 current=3 updated=3 available=0 revision=new/new gen=1/1"))
	if err := discard(c.AppsV1().StatefulSets("default").Patch(bg, "par", types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{})); err != nil {
		t.Fatal(err)
	}
	eventually(t, stsStatus(c, "par", "replicas=0 ready=0 current=0 updated=0 available=0 revision=new/new gen=2/2"))
}
