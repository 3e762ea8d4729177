package nodee2e

import (
	"os/exec"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// onePodNode is the common start of the single-node pod tests: the
// binaries they need, a member, a private containerd with the test image,
// and one `weir agent --run-pods` whose node is Ready; the pods are
// removed before the rest is torn down. serverArgs go to the member.
func onePodNode(t *testing.T, serverArgs ...string) (c *cluster, n *node, sock string, uids *uidSet) {
	t.Helper()
	testutil.RequirePrivileged(t)
	for _, b := range []string{"containerd", "runc", "busybox", "nsenter"} {
		testutil.RequireBinary(t, b, exec.LookPath)
	}
	c = newCluster(t, serverArgs...)
	sock = testutil.StartContainerd(t)
	n = c.newNode(t, 1)
	importTestImage(t, sock, n.name)
	uids = &uidSet{m: map[string]bool{}}
	c.startPodAgent(t, n, sock)
	t.Cleanup(func() { cleanUpPods(t, []*node{n}, sock, uids) })
	waitFor(t, n.name+" Ready", 30*time.Second, func() bool { ok, _ := c.nodeReady(n.name); return ok })
	return c, n, sock, uids
}
