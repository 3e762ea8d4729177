package kubectl

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// crashYAML is a pod whose container exits after printing a line, so
// that it restarts and has a previous log.
const crashYAML = `apiVersion: v1
kind: Pod
metadata:
  name: crash
  namespace: kc
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: weir/testimage:1
    imagePullPolicy: Never
    command: ["sh", "-c", "echo crash-run-$(date +%s%N); sleep 1; exit 1"]
  - name: side
    image: weir/testimage:1
    imagePullPolicy: Never
    command: ["sh", "-c", "echo side-says-hi; exec sleep 3600"]
`

// rfc3339Line is a log line prefixed by --timestamps.
var rfc3339Line = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) `)

// testStreams: logs, exec, cp and port-forward. They need the kubelet
// stream protocols (branch stream); until it is merged this group fails.
func testStreams(t *testing.T, e *env) {
	pods := strings.Fields(e.ok(t, "-n", ns, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"))
	if len(pods) == 0 {
		t.Fatal("no web pods")
	}
	pod := pods[0]
	t.Run("logs", func(t *testing.T) {
		out := e.ok(t, "-n", ns, "logs", pod)
		contains(t, "logs", out, "weir-testserver serving", "reply="+pod)
		out = e.ok(t, "-n", ns, "logs", pod, "-c", "web", "--timestamps")
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if !rfc3339Line.MatchString(l) {
				t.Errorf("logs --timestamps: line without an RFC 3339 timestamp: %q", l)
			}
		}
		contains(t, "logs --since=1h", e.ok(t, "-n", ns, "logs", pod, "--since=1h"), "weir-testserver serving")
		time.Sleep(2 * time.Second)
		if out := e.ok(t, "-n", ns, "logs", pod, "--since=1s"); strings.Contains(out, "weir-testserver serving") {
			t.Errorf("logs --since=1s shows the start-up line of a pod started earlier:\n%s", out)
		}
		out = e.ok(t, "-n", ns, "logs", "deployment/web")
		contains(t, "logs deployment/web", out, "weir-testserver serving")

		// -f: the start-up line, then a line written while following.
		f := e.start(t, 30*time.Second, "-n", ns, "logs", "-f", pod)
		f.waitLine(t, 10*time.Second, "the start-up line", func(l string) bool { return strings.Contains(l, "weir-testserver serving") })
		// A request to the server logs nothing; -f must at least stay
		// open (no EOF) while the container runs.
		select {
		case <-f.done:
			t.Errorf("logs -f ended while the container runs")
		case <-time.After(2 * time.Second):
		}
		f.stop(t)

		// -c and --previous on a restarting container.
		crash := e.write(t, "crash.yaml", crashYAML)
		e.run(t, call{allow: []string{"GET 404"}}, "apply", "-f", crash)
		e.eventually(t, 60*time.Second, "a restart of crash/main", func(s string) bool { return s != "" && s != "0" },
			"-n", ns, "get", "pod", "crash", "-o", `jsonpath={.status.containerStatuses[?(@.name=="main")].restartCount}`)
		contains(t, "logs -c side", e.ok(t, "-n", ns, "logs", "crash", "-c", "side"), "side-says-hi")
		contains(t, "logs --previous", e.ok(t, "-n", ns, "logs", "crash", "-c", "main", "--previous"), "crash-run-")
		e.run(t, call{allow: []string{"GET 404"}}, "-n", ns, "delete", "pod", "crash", "--wait=false")
	})

	t.Run("exec", func(t *testing.T) {
		contains(t, "exec", e.ok(t, "-n", ns, "exec", pod, "--", "echo", "hello-from-exec"), "hello-from-exec")
		res := e.run(t, call{stdin: "piped-in\n"}, "-n", ns, "exec", "-i", pod, "--", "cat")
		contains(t, "exec -i", res.stdout, "piped-in")
		res = e.run(t, call{fail: true}, "-n", ns, "exec", pod, "--", "sh", "-c", "exit 3")
		if res.code != 3 {
			t.Errorf("exec sh -c 'exit 3': kubectl exited %d, want 3", res.code)
		}
		// -it under a pty: the command sees a terminal.
		cmdline := strings.Join([]string{e.bin, "--kubeconfig", e.kubeconfig, "-n", ns, "exec", "-it", pod, "--", "sh", "-c", "'tty; echo tty-ok'"}, " ")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "script", "-qec", cmdline, "/dev/null")
		cmd.Env = e.environ(nil)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		t.Logf("$ script -qec %q /dev/null   (exit %d)\n%s", cmdline, exitCode(err), indent(string(out)))
		if err != nil || !strings.Contains(string(out), "/dev/pts/") || !strings.Contains(string(out), "tty-ok") {
			t.Errorf("exec -it under a pty: %v, want a /dev/pts/N tty and tty-ok:\n%s", err, out)
		}
	})

	t.Run("cp", func(t *testing.T) {
		src := e.write(t, "cp-src.txt", "copied by kubectl cp\n")
		e.ok(t, "-n", ns, "cp", src, pod+":/tmp/cp.txt")
		contains(t, "cp to the pod", e.ok(t, "-n", ns, "exec", pod, "--", "cat", "/tmp/cp.txt"), "copied by kubectl cp")
		dst := filepath.Join(e.home, "cp-back.txt")
		e.ok(t, "-n", ns, "cp", pod+":/tmp/cp.txt", dst)
		if data, err := os.ReadFile(dst); err != nil || string(data) != "copied by kubectl cp\n" {
			t.Errorf("cp from the pod: %q, %v", data, err)
		}
	})

	t.Run("port-forward", func(t *testing.T) {
		local := testutil.FreeLocalPort(t)
		port := local[strings.LastIndex(local, ":")+1:]
		pf := e.start(t, 40*time.Second, "-n", ns, "port-forward", "pod/"+pod, port+":8080")
		if _, ok := pf.waitLine(t, 15*time.Second, "Forwarding from", func(l string) bool { return strings.HasPrefix(l, "Forwarding from 127.0.0.1:"+port) }); !ok {
			return
		}
		for i := range 2 { // two connections through one forward
			c := http.Client{Timeout: 10 * time.Second}
			resp, err := c.Get("http://" + local + "/")
			if err != nil {
				t.Errorf("GET %d through port-forward: %v", i, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Logf("GET http://%s/ through port-forward: %d %q", local, resp.StatusCode, body)
			if resp.StatusCode != 200 || !strings.Contains(string(body), pod) {
				t.Errorf("GET through port-forward: %d %q, want 200 naming %s", resp.StatusCode, body, pod)
			}
		}
		pf.stop(t)
	})
}
