package quota_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/weirnet/weir/control/quota"
)

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func list(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func pod(name string, reqs, lims corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "app", Resources: corev1.ResourceRequirements{Requests: reqs, Limits: lims}}}}}
}

func TestPodUsage(t *testing.T) {
	p := pod("p", list("cpu", "100m", "memory", "64Mi"), list("cpu", "1"))
	// an init container larger than the app: kube charges the larger
	p.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Requests: list("cpu", "500m")}}}
	u := quota.Usage("pods", "", p, now)
	want := list("pods", "1", "count/pods", "1", "cpu", "500m", "requests.cpu", "500m", "memory", "64Mi", "requests.memory", "64Mi", "limits.cpu", "1")
	if !quota.Equal(u, want) {
		t.Errorf("usage %v, want %v", u, want)
	}

	done := p.DeepCopy()
	done.Status.Phase = corev1.PodFailed
	if u := quota.Usage("pods", "", done, now); !quota.Equal(u, list("count/pods", "1")) {
		t.Errorf("failed pod charges %v, want count/pods only", u)
	}
	// past the end of its deletion grace period a pod no longer counts
	gone := p.DeepCopy()
	gone.DeletionTimestamp = &metav1.Time{Time: now.Add(-time.Minute)}
	grace := int64(30)
	gone.DeletionGracePeriodSeconds = &grace
	if quota.PodCharged(gone, now) {
		t.Error("pod past its deletion grace still charged")
	}
	gone.DeletionTimestamp = &metav1.Time{Time: now.Add(-10 * time.Second)}
	if !quota.PodCharged(gone, now) {
		t.Error("pod within its deletion grace not charged")
	}
}

func TestServiceUsage(t *testing.T) {
	no := false
	for _, tc := range []struct {
		spec      corev1.ServiceSpec
		nodePorts string
		lbs       string
	}{
		{corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}, "0", "0"},
		{corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}, {Port: 443}}}, "2", "0"},
		{corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}, "1", "1"},
		{corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: &no,
			Ports: []corev1.ServicePort{{Port: 80}, {Port: 81, NodePort: 30001}}}, "1", "1"},
	} {
		u := quota.Usage("services", "", &corev1.Service{Spec: tc.spec}, now)
		want := list("services", "1", "count/services", "1", "services.nodeports", tc.nodePorts, "services.loadbalancers", tc.lbs)
		if !quota.Equal(u, want) {
			t.Errorf("%s: usage %v, want %v", tc.spec.Type, u, want)
		}
	}
}

func TestAdmitMessages(t *testing.T) {
	q := func(name string, hard, used corev1.ResourceList) corev1.ResourceQuota {
		return corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.ResourceQuotaStatus{Hard: hard, Used: used}}
	}
	for _, tc := range []struct {
		name   string
		quotas []corev1.ResourceQuota
		obj    runtime.Object
		want   string
	}{
		{"several exceeded", []corev1.ResourceQuota{q("q", list("pods", "1", "requests.cpu", "1"), list("pods", "1", "requests.cpu", "900m"))},
			pod("p", list("cpu", "200m"), nil),
			"exceeded quota: q, requested: pods=1,requests.cpu=200m, used: pods=1,requests.cpu=900m, limited: pods=1,requests.cpu=1"},
		{"status unknown", []corev1.ResourceQuota{q("q", list("pods", "1"), nil)}, pod("p", nil, nil),
			"status unknown for quota: q, resources: pods"},
		{"second quota", []corev1.ResourceQuota{q("a", list("pods", "5"), list("pods", "0")), q("b", list("count/pods", "0"), list("count/pods", "0"))},
			pod("p", nil, nil), "exceeded quota: b, requested: count/pods=1, used: count/pods=0, limited: count/pods=0"},
		{"missing limits", []corev1.ResourceQuota{q("q", list("limits.cpu", "4", "memory", "1Gi"), list("limits.cpu", "0", "memory", "0"))},
			pod("p", list("memory", "1Mi"), nil), "failed quota: q: must specify limits.cpu for: app"},
	} {
		_, err := quota.Admit(tc.quotas, "pods", "", tc.obj, nil, now)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got: %v\nwant: %s", tc.name, err, tc.want)
		}
	}

	// Admitted: each quota that tracks something is charged.
	qs := []corev1.ResourceQuota{q("a", list("pods", "5"), list("pods", "1")), q("b", list("configmaps", "1"), list("configmaps", "0"))}
	charged, err := quota.Admit(qs, "pods", "", pod("p", nil, nil), nil, now)
	if err != nil || len(charged) != 1 || charged[0] != 0 || qs[0].Status.Used.Pods().String() != "2" {
		t.Errorf("charged %v, %v; used %v", charged, err, qs[0].Status.Used)
	}
	// A Service update is charged by what it adds only.
	old := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}
	cur := old.DeepCopy()
	cur.Labels = map[string]string{"a": "b"}
	qs = []corev1.ResourceQuota{q("np", list("services.nodeports", "1", "services", "1"), list("services.nodeports", "1", "services", "1"))}
	if charged, err := quota.Admit(qs, "services", "", cur, old, now); err != nil || len(charged) != 0 {
		t.Errorf("unchanged Service update: charged %v, %v", charged, err)
	}
}

func TestLimitRange(t *testing.T) {
	it := corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: list("cpu", "2"), Min: list("memory", "10Mi")}
	quota.DefaultLimitRangeItem(&it)
	if !quota.Equal(it.Default, list("cpu", "2")) || !quota.Equal(it.DefaultRequest, list("cpu", "2", "memory", "10Mi")) {
		t.Errorf("defaults %v / %v", it.Default, it.DefaultRequest)
	}
	lrs := []corev1.LimitRange{{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{it,
		{Type: corev1.LimitTypePod, Max: list("cpu", "3")}}}}}
	p := pod("p", list("cpu", "1"), nil)
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side"})
	if !quota.DefaultPod(lrs, p) {
		t.Fatal("DefaultPod changed nothing")
	}
	if got, want := p.Annotations[quota.LimitRangerAnnotation],
		"LimitRanger plugin set: memory request for container app; cpu limit for container app; cpu, memory request for container side; cpu limit for container side"; got != want {
		t.Errorf("annotation\n got: %s\nwant: %s", got, want)
	}
	if err := quota.CheckPod(lrs, p); err == nil || err.Error() != "maximum cpu usage per Pod is 3, but limit is 4" {
		t.Errorf("CheckPod: %v", err)
	}
	if err := quota.CheckPod(lrs, pod("bare", nil, nil)); err == nil ||
		err.Error() != "[minimum memory usage per Container is 10Mi.  No request is specified, maximum cpu usage per Container is 2.  No limit is specified, maximum cpu usage per Pod is 3.  No limit is specified]" {
		t.Errorf("CheckPod without defaults: %v", err)
	}
}
