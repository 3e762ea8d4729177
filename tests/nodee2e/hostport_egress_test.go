package nodee2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/node/runtime/testimage"
	"github.com/weirnet/weir/tests/testutil"
)

// TestHostPortAndEgress: a pod's hostPort is forwarded by the node (the
// agent chains the CNI portmap plugin after weir-cni): another node and
// the node itself reach the pod at NODE-IP:hostPort; once the pod is
// deleted, nothing answers there. The pod reaches a server in the
// underlay, which has no route to pod CIDRs, through the node's egress
// masquerade: the server sees the node's address.
func TestHostPortAndEgress(t *testing.T) {
	c, nodes, sock, uids := twoPodNodes(t, "iptables", "nft")

	grace := int64(2)
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "hostport", Namespace: "default", Labels: map[string]string{"app": podsApp}},
		Spec: corev1.PodSpec{NodeName: nodes[0].name, TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "web", Image: testimage.Name, ImagePullPolicy: corev1.PullNever, Args: []string{"-udp-echo="},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, HostPort: 18080, Protocol: corev1.ProtocolTCP}}}}}}
	c.createTyped(t, gvrPods, pod)
	waitFor(t, "the hostPort pod Running and Ready", 90*time.Second, func() bool {
		return readyOnDistinctNodes(c.appPods(t, uids), 1)
	})
	url := "http://" + nodes[0].ip + ":18080/"
	for _, from := range nodes {
		var out string
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if out, err = httpFromNode(from, url); err == nil {
				break
			}
		}
		if err != nil || out != "hostport" {
			t.Errorf("from %s, %s answered %q %v, want the pod's name", from.name, url, out, err)
		}
	}

	// Egress: a server on the underlay bridge answers with the address it
	// sees.
	// Another node, which routes pod CIDRs, sees the pod's own address.
	whoAmI(t, c.ul, memberIP+":18081")
	whoAmI(t, nodes[1].ns, nodes[1].ip+":18081")
	pids := taskPIDs(t, sock, "weir-"+nodes[0].name)
	if len(pids) != 1 {
		t.Fatalf("tasks on %s: %v", nodes[0].name, pids)
	}
	var pid uint32
	for _, p := range pids {
		pid = p
	}
	podIP := c.appPods(t, uids)[0].Status.PodIP
	for _, tc := range []struct{ to, want, why string }{
		{memberIP, nodes[0].ip, "the underlay server sees the node's address (masquerade)"},
		{nodes[1].ip, podIP, "another node sees the pod's address (no masquerade toward nodes)"},
	} {
		out, err := inContainer(t, pid, "busybox", "wget", "-q", "-O", "-", "http://"+tc.to+":18081/")
		if err != nil || strings.TrimSpace(out) != tc.want {
			t.Errorf("from the pod to %s: %q %v, want %s: %s", tc.to, out, err, tc.want, tc.why)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.api.Delete(ctx, gvrPods, "default", "hostport"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod gone from the node", 30*time.Second, func() bool {
		k, err := containerCount(sock, "weir-"+nodes[0].name)
		return err == nil && k == 0 && !uids.anyNetns()
	})
	if out, err := httpFromNode(nodes[1], url); err == nil {
		t.Errorf("after the pod's deletion %s still answered %q", url, out)
	}
}

// whoAmI serves, in ns at addr, HTTP answers that name the client's
// address, until the test ends.
func whoAmI(t *testing.T, ns *testutil.Netns, addr string) {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprint(w, host)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}
