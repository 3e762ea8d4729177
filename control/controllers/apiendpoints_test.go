package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/controllers/kube"
)

// TestPlanAPIEndpoints: voting members on routable IPv4 addresses of the
// first member's port are the kubernetes service's endpoints, ready as
// probed; loopback, non-voters, other ports and bad addresses are left out.
func TestPlanAPIEndpoints(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default", UID: "u1"}}
	got := PlanAPIEndpoints(svc, []kube.Member{
		{Name: "c", APIAddr: "192.168.77.252:6443", Voter: true, Ready: false},
		{Name: "a", APIAddr: "192.168.77.254:6443", Voter: true, Ready: true},
		{Name: "b", APIAddr: "127.0.0.1:6443", Voter: true, Ready: true},
		{Name: "d", APIAddr: "192.168.77.251:6443", Voter: false, Ready: true},
		{Name: "e", APIAddr: "192.168.77.250:7000", Voter: true, Ready: true},
		{Name: "f", APIAddr: "not-an-address", Voter: true, Ready: true},
	})
	if len(got.Endpoints) != 2 || got.Endpoints[0].Addresses[0] != "192.168.77.254" || got.Endpoints[1].Addresses[0] != "192.168.77.252" {
		t.Fatalf("endpoints %+v, want .254 then .252", got.Endpoints)
	}
	if !*got.Endpoints[0].Conditions.Ready || *got.Endpoints[1].Conditions.Ready {
		t.Errorf("ready conditions %v %v, want true false", *got.Endpoints[0].Conditions.Ready, *got.Endpoints[1].Conditions.Ready)
	}
	if len(got.Ports) != 1 || *got.Ports[0].Port != 6443 || *got.Ports[0].Name != "https" {
		t.Errorf("ports %+v, want https 6443", got.Ports)
	}
	if got.Labels["kubernetes.io/service-name"] != "kubernetes" || got.OwnerReferences[0].UID != "u1" {
		t.Errorf("labels %v owners %v", got.Labels, got.OwnerReferences)
	}
	if empty := PlanAPIEndpoints(svc, []kube.Member{{Name: "a", APIAddr: "127.0.0.1:6443", Voter: true}}); len(empty.Endpoints) != 0 || len(empty.Ports) != 0 {
		t.Errorf("loopback-only members: %+v", empty)
	}
}
