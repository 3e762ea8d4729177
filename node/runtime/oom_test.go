package runtime

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// TestOOMKilled: a container that uses more memory than its limit is
// ended by the kernel's OOM killer inside its cgroup, reported as the
// kubelet reports it (exit code 137, reason OOMKilled) and restarted,
// with the restarts counted.
func TestOOMKilled(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("hog", types.UID(uuid.NewString()))
	pod.Spec.Containers[0].Args = []string{"hog", "256Mi"}
	pod.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}
	n.rt.Sync([]corev1.Pod{pod})
	var cs corev1.ContainerStatus
	waitFor(t, "the container OOM-killed and restarted", 90*time.Second, func() bool {
		st := n.rep.get("default/hog")
		if len(st.ContainerStatuses) != 1 {
			return false
		}
		cs = st.ContainerStatuses[0]
		return cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil
	})
	if term := cs.LastTerminationState.Terminated; term.ExitCode != 137 || term.Reason != reasonOOMKilled {
		t.Errorf("last termination: exit code %d, reason %q; want 137 OOMKilled", term.ExitCode, term.Reason)
	}
	// A container killed otherwise is not called OOMKilled.
	other := testPod("killed", types.UID(uuid.NewString()))
	other.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
	n.rt.Sync([]corev1.Pod{pod, other})
	waitFor(t, "the second pod running", 60*time.Second, func() bool {
		st := n.rep.get("default/killed")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].State.Running != nil
	})
	n.killContainer(t, other.UID, "web")
	waitFor(t, "the SIGKILLed container restarted", 60*time.Second, func() bool {
		st := n.rep.get("default/killed")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].LastTerminationState.Terminated != nil
	})
	if term := n.rep.get("default/killed").ContainerStatuses[0].LastTerminationState.Terminated; term.ExitCode != 137 || term.Reason != "Error" {
		t.Errorf("SIGKILLed container: exit code %d, reason %q; want 137 Error", term.ExitCode, term.Reason)
	}
}

func TestMemoryV1From(t *testing.T) {
	info := strings.Join([]string{
		"35 25 0:30 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755",
		"40 35 0:35 / /sys/fs/cgroup/cpu rw,relatime shared:16 - cgroup cgroup rw,cpu",
		"41 35 0:36 / /sys/fs/cgroup/memory rw,relatime shared:17 - cgroup cgroup rw,memory",
		"42 35 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
	}, "\n")
	if got := memoryV1From([]byte(info)); got != "/sys/fs/cgroup/memory" {
		t.Errorf("memory hierarchy %q", got)
	}
	if got := memoryV1From([]byte("42 35 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")); got != "" {
		t.Errorf("pure v2: %q", got)
	}
}
