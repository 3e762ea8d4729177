package status

import (
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/client"
)

func node(name, cidr string, ready corev1.ConditionStatus) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, Reason: "Test"}}}}
}

func pod(name, nodeName string, phase corev1.PodPhase, ready bool) corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{NodeName: nodeName},
		Status: corev1.PodStatus{Phase: phase, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
}

// TestReport: a healthy cluster has no problem line; a NotReady node, a
// pending pod, a lost leader and a member that does not answer are each
// marked.
func TestReport(t *testing.T) {
	nodes := []corev1.Node{node("n2", "10.244.1.0/24", corev1.ConditionTrue), node("n1", "10.244.0.0/24", corev1.ConditionTrue)}
	pods := []corev1.Pod{pod("a", "n1", corev1.PodRunning, true), pod("b", "n2", corev1.PodRunning, true), pod("j", "n2", corev1.PodSucceeded, false)}
	r := &Report{Server: "http://127.0.0.1:6443", Nodes: nodeRows(nodes, pods), Pods: podSummary(pods), Services: 3,
		DNS:     Health{OK, "2 of 2 node DNS servers ready"},
		Members: []Member{{Member: client.Member{Name: "m1", APIAddr: "10.0.0.1:6443", Voter: true, Leader: true}, Health: Health{OK, "ready"}}}}
	var out bytes.Buffer
	if err := r.Print(&out); err != nil {
		t.Fatal(err)
	}
	if r.Problems() != 0 || strings.Contains(out.String(), "!!") {
		t.Fatalf("healthy cluster has problems:\n%s", out.String())
	}
	for _, want := range []string{"leader m1, 1 voters", "2 of 2 nodes Ready", "n1 ", "10.244.0.0/24    1 pods", "3 pods, 2 ready", "3 services"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Index(out.String(), "n1 ") > strings.Index(out.String(), "n2 ") {
		t.Errorf("nodes not sorted:\n%s", out.String())
	}

	nodes[0] = node("n2", "10.244.1.0/24", corev1.ConditionUnknown)
	pods = append(pods, pod("p", "", corev1.PodPending, false))
	r.Nodes, r.Pods = nodeRows(nodes, pods), podSummary(pods)
	r.Members = []Member{{Member: client.Member{Name: "m1", Voter: true}, Health: Health{Problem, "not answering"}}}
	out.Reset()
	_ = r.Print(&out)
	for _, want := range []string{"!!  no leader", "!!  m1", "!!  1 of 2 nodes Ready", "!!  n2               Ready=Unknown Test", "!!  default/p: Pending, not ready"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if got := r.Problems(); got != 6 {
		t.Errorf("Problems() = %d, want 6:\n%s", got, out.String())
	}
}
