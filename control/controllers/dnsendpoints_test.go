package controllers_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/control/controllers"
)

// TestDNSEndpoints: kube-system/kube-dns (created by Bootstrap) gets the
// slice kube-dns-nodes with every node's InternalIP on 53/UDP and 53/TCP,
// ready as the node's Ready condition; it follows the condition when the
// node lifecycle controller turns a silent node Unknown.
func TestDNSEndpoints(t *testing.T) {
	c := start(t)
	for _, n := range []struct {
		name, ip string
		ready    bool
	}{{"dns-a", "192.0.2.1", true}, {"dns-b", "192.0.2.2", false}, {"dns-c", "", true}} {
		node := &corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: n.name}}
		if err := into(node)(c.CoreV1().Nodes().Create(bg, node, metav1.CreateOptions{})); err != nil {
			t.Fatal(err)
		}
		if n.ip != "" {
			node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: n.name}, {Type: corev1.NodeInternalIP, Address: n.ip}}
		}
		st := corev1.ConditionFalse
		if n.ready {
			st = corev1.ConditionTrue
		}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		if err := into(node)(c.CoreV1().Nodes().UpdateStatus(bg, node, metav1.UpdateOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, func() string { return dnsSlice(c, "192.0.2.1=true 192.0.2.2=false") })
	// dns-a sends no heartbeats: after the grace period it is Unknown.
	eventually(t, func() string { return dnsSlice(c, "192.0.2.1=false 192.0.2.2=false") })
}

// dnsSlice checks the DNS slice's endpoints ("ip=ready ...") and shape.
func dnsSlice(c kubernetes.Interface, want string) string {
	var s discoveryv1.EndpointSlice
	if err := into(&s)(c.DiscoveryV1().EndpointSlices(controllers.DNSNamespace).Get(bg, controllers.DNSSlice, metav1.GetOptions{})); err != nil {
		return err.Error()
	}
	if s.Labels[discoveryv1.LabelServiceName] != "kube-dns" || s.Labels[discoveryv1.LabelManagedBy] != controllers.DNSManagedBy ||
		len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Name != "kube-dns" || s.AddressType != discoveryv1.AddressTypeIPv4 {
		return fmt.Sprintf("slice metadata %+v", s.ObjectMeta)
	}
	var ports []string
	for _, p := range s.Ports {
		ports = append(ports, fmt.Sprintf("%s/%d/%s", *p.Name, *p.Port, *p.Protocol))
	}
	if got := strings.Join(ports, " "); got != "dns/53/UDP dns-tcp/53/TCP" {
		return "ports " + got
	}
	var eps []string
	for _, e := range s.Endpoints {
		eps = append(eps, fmt.Sprintf("%s=%v", strings.Join(e.Addresses, ","), *e.Conditions.Ready))
	}
	if got := strings.Join(eps, " "); got != want {
		return fmt.Sprintf("endpoints %q, want %q", got, want)
	}
	return ""
}
