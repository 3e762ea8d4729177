package nodee2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/node/runtime/testimage"
)

// TestCARotationWithAgent: a real `weir server` and pod agent. `weir
// certs rotate-ca` makes the agent renew from the new CA (it keeps the
// bundle in pki/ca.crt); `--finish` is accepted once it has; after it the
// agent still runs a new pod, and `weir logs` and `weir exec` still reach
// it through the node API (the member's new client certificate, the
// agent's bundle), with a client trusting the new ca.crt only.
func TestCARotationWithAgent(t *testing.T) {
	c, n, _, uids := onePodNode(t)
	memberDir := filepath.Join(c.dir, "member")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("member log:\n%s\nagent log:\n%s", tail(c.member.log, 40), tail(n.agent.log, 60))
		}
	})
	memberCmd := func(args ...string) (string, error) {
		return c.ul.Exec(append(append([]string{c.weir}, args...), "--data-dir", memberDir, "--peer", "127.0.0.1:2380")...)
	}
	certs := func(p string) int {
		b, _ := os.ReadFile(p)
		return bytes.Count(b, []byte("BEGIN CERTIFICATE"))
	}
	pod := func(name string) *corev1.Pod {
		grace := int64(1)
		return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: n.name, TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{
				{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever, Command: []string{"/bin/sh", "-c", "echo hello-" + name + "; sleep 1000"}}}}}
	}
	c.createTyped(t, gvrPods, pod("before"))
	waitFor(t, "pod before Running", 90*time.Second, func() bool { return c.podRunning(t, "before", uids) })

	if out, err := memberCmd("certs", "rotate-ca"); err != nil {
		t.Fatalf("weir certs rotate-ca: %v\n%s", err, out)
	}
	waitFor(t, "the agent's bundle with both CAs", 30*time.Second, func() bool { return certs(filepath.Join(n.dir, "pki", "ca.crt")) == 2 })
	var out string
	var err error
	waitFor(t, "rotate-ca --finish accepted", 30*time.Second, func() bool {
		out, err = memberCmd("certs", "rotate-ca", "--finish")
		return err == nil
	})
	t.Logf("finish: %s", out)
	waitFor(t, "the member's ca.crt with the new CA only", 10*time.Second, func() bool { return certs(filepath.Join(memberDir, "ca.crt")) == 1 })

	// A client of the new CA (the old one's no longer verifies the member).
	tok, err := os.ReadFile(filepath.Join(memberDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	api, err := client.New(client.Config{Server: "https://" + proxyInto(t, c.ul, apiAddr), Token: strings.TrimSpace(string(tok)),
		CAFile: filepath.Join(memberDir, "ca.crt"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Close)
	c.api = api
	c.createTyped(t, gvrPods, pod("after"))
	waitFor(t, "pod after Running", 90*time.Second, func() bool { return c.podRunning(t, "after", uids) })
	wl := &weirCLI{c: c, t: t}
	waitFor(t, "weir logs of the new pod", 20*time.Second, func() bool {
		o, _, code := wl.run(nil, "logs", "after")
		return code == 0 && o == "hello-after\n"
	})
	wl.expect(nil, 0, "hello-before\n", "", "logs", "before")
	if o, e, code := wl.run(nil, "exec", "after", "--", "echo", "exec-ok"); code != 0 || strings.TrimSpace(o) != "exec-ok" {
		t.Fatalf("weir exec after the rotation: exit %d, %q %q", code, o, e)
	}
}
