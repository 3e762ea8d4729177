package controllers_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// TestEndpointSlices: a Service selecting three pods (two ready, one not)
// gets one slice labelled with its name, addresses with ready/serving
// conditions, the named target port resolved to the container port, the
// node name; and an Endpoints object with ready and not-ready addresses.
// A pod turning ready moves into the ready set.
func TestEndpointSlices(t *testing.T) {
	c := start(t)
	readyNode(t, c, "node-a") // pods on a missing node are deleted
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	if err := into(svc)(c.CoreV1().Services("default").Create(bg, svc, metav1.CreateOptions{})); err != nil {
		t.Fatal(err)
	}
	tpl := podTemplate("web", "busybox")
	var pods []*corev1.Pod
	for i := range 4 {
		p := &corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "default", Labels: tpl.Labels},
			Spec:       *tpl.Spec.DeepCopy()}
		p.Spec.NodeName = "node-a"
		if i == 3 {
			p.Labels = map[string]string{"app": "other"}
		}
		if err := into(p)(c.CoreV1().Pods("default").Create(bg, p, metav1.CreateOptions{})); err != nil {
			t.Fatal(err)
		}
		if err := setPodStatus(c, p, corev1.PodRunning, i < 2, fmt.Sprintf("10.0.0.%d", i+1)); err != nil {
			t.Fatal(err)
		}
		pods = append(pods, p)
	}
	eventually(t, func() string { return checkSlice(c, "10.0.0.1 10.0.0.2", "10.0.0.3") })
	eventually(t, func() string { return checkEndpoints(c, "10.0.0.1 10.0.0.2", "10.0.0.3") })

	if err := into(pods[2])(c.CoreV1().Pods("default").Get(bg, "web-2", metav1.GetOptions{})); err != nil {
		t.Fatal(err)
	}
	if err := setPodStatus(c, pods[2], corev1.PodRunning, true, "10.0.0.3"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string { return checkSlice(c, "10.0.0.1 10.0.0.2 10.0.0.3", "") })
	eventually(t, func() string { return checkEndpoints(c, "10.0.0.1 10.0.0.2 10.0.0.3", "") })
}

func checkSlice(c kubernetes.Interface, wantReady, wantNotReady string) string {
	var l discoveryv1.EndpointSliceList
	if err := into(&l)(c.DiscoveryV1().EndpointSlices("default").List(bg, metav1.ListOptions{})); err != nil {
		return err.Error()
	}
	var web []discoveryv1.EndpointSlice // default/kubernetes has its own slice
	for _, s := range l.Items {
		if s.Labels[discoveryv1.LabelServiceName] != "kubernetes" {
			web = append(web, s)
		}
	}
	if len(web) != 1 {
		return fmt.Sprintf("%d slices, want 1", len(web))
	}
	s := web[0]
	if s.Labels[discoveryv1.LabelServiceName] != "web" || !strings.HasPrefix(s.Name, "web-") {
		return fmt.Sprintf("slice %s labels %v", s.Name, s.Labels)
	}
	if len(s.Ports) != 1 || *s.Ports[0].Port != 8080 || *s.Ports[0].Name != "http" {
		return fmt.Sprintf("ports %+v, want http 8080", s.Ports)
	}
	var rd, nr []string
	for _, e := range s.Endpoints {
		if e.NodeName == nil || *e.NodeName != "node-a" || e.TargetRef == nil || e.TargetRef.Kind != "Pod" {
			return fmt.Sprintf("endpoint %+v lacks node or pod", e)
		}
		if *e.Conditions.Ready {
			rd = append(rd, e.Addresses[0])
		} else {
			nr = append(nr, e.Addresses[0])
		}
		if *e.Conditions.Serving != *e.Conditions.Ready || *e.Conditions.Terminating {
			return fmt.Sprintf("conditions %+v", e.Conditions)
		}
	}
	if got := strings.Join(rd, " ") + "|" + strings.Join(nr, " "); got != wantReady+"|"+wantNotReady {
		return "slice ready|notready = " + got
	}
	return ""
}

func checkEndpoints(c kubernetes.Interface, wantReady, wantNotReady string) string {
	var ep corev1.Endpoints
	if err := into(&ep)(c.CoreV1().Endpoints("default").Get(bg, "web", metav1.GetOptions{})); err != nil {
		return err.Error()
	}
	if len(ep.Subsets) != 1 {
		return fmt.Sprintf("subsets %+v", ep.Subsets)
	}
	ss := ep.Subsets[0]
	ips := func(as []corev1.EndpointAddress) string {
		var out []string
		for _, a := range as {
			out = append(out, a.IP)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	if len(ss.Ports) != 1 || ss.Ports[0].Port != 8080 {
		return fmt.Sprintf("ports %+v", ss.Ports)
	}
	if got := ips(ss.Addresses) + "|" + ips(ss.NotReadyAddresses); got != wantReady+"|"+wantNotReady {
		return "endpoints ready|notready = " + got
	}
	return ""
}
