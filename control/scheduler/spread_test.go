package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestBestEffortPodsSpread: pods that request nothing spread evenly over
// equal nodes, also past the point where their default scoring requests
// (100m each) exceed a node's cpu (found by `weir-bench pods`: 100 pods on
// two 2-core nodes went 82/18 when balanced used those defaults).
func TestBestEffortPodsSpread(t *testing.T) {
	nodes := []*corev1.Node{node("a", "2", "24Gi", 110), node("b", "2", "24Gi", 110)}
	var placed []*corev1.Pod
	count := map[string]int{}
	for i := 0; i < 100; i++ {
		d, err := Schedule(pod(fmt.Sprintf("p%d", i), "", ""), nodes, placed)
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
		count[d.Node]++
		placed = append(placed, pod(fmt.Sprintf("p%d", i), "", "", on(d.Node)))
	}
	if count["a"] < 45 || count["b"] < 45 {
		t.Errorf("100 best-effort pods on two equal nodes: %v, want about 50 each", count)
	}
}
