package nodee2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/weirnet/weir/node/runtime/testimage"
)

// talkerScript prints two lines, then a line each time /tmp/more appears.
const talkerScript = `echo hello-from-pod; sleep 0.2; echo to-stderr >&2
while true; do if [ -e /tmp/more ]; then rm /tmp/more; echo more-line; fi; sleep 0.1; done`

// TestLogsAndExecBinaries: `weir logs` and `weir exec` reach a real pod
// through the API server and the node's API (TLS with the cluster CA,
// node token): output, stderr, exit codes, stdin, -f receiving new
// lines, and clear errors for unknown containers and pods.
func TestLogsAndExecBinaries(t *testing.T) {
	c, n, _, uids := onePodNode(t)

	grace := int64(1)
	c.createTyped(t, gvrPods, &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "talker", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: n.name, TerminationGracePeriodSeconds: &grace, Containers: []corev1.Container{
			{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever, Command: []string{"/bin/sh", "-c", talkerScript},
				Env: []corev1.EnvVar{{Name: "WHO", Value: "talker-env"}}},
			{Name: "side", Image: testimage.Name, ImagePullPolicy: corev1.PullNever, Command: []string{"/bin/sleep", "1000"}}}}})
	waitFor(t, "pod talker Running", 90*time.Second, func() bool { return c.podRunning(t, "talker", uids) })

	wl := &weirCLI{c: c, t: t}
	var last string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last weir logs: %s", last)
		}
	})
	waitFor(t, "both log lines", 20*time.Second, func() bool {
		out, errOut, code := wl.run(nil, "logs", "talker", "-c", "main")
		last = fmt.Sprintf("exit %d, stdout %q, stderr %q", code, out, errOut)
		return out == "hello-from-pod\nto-stderr\n"
	})
	wl.expect(nil, 0, "hello-from-pod\nto-stderr\n", "", "logs", "pod/talker", "--container=main")
	wl.expect(nil, 0, "to-stderr\n", "", "logs", "talker", "-c", "main", "--tail", "1")
	if out, _, code := wl.run(nil, "logs", "talker", "-c", "main", "--timestamps", "--since", "1h"); code != 0 ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT[\d:.]+Z hello-from-pod\n\S+Z to-stderr\n$`).MatchString(out) {
		t.Errorf("weir logs --timestamps --since 1h: exit %d, %q", code, out)
	}
	wl.expect(nil, 7, "talker-env\n", "oops\n", "exec", "talker", "-c", "main", "--", "sh", "-c", `echo "$WHO"; echo oops >&2; exit 7`)
	wl.expect(nil, 0, "talker\n", "", "exec", "-n", "default", "talker", "-c", "side", "--", "hostname")
	wl.expect(strings.NewReader("a\nb\nc\n"), 0, "3\n", "", "exec", "-i", "talker", "-c", "main", "--", "wc", "-l")
	_, errOut, code := wl.run(nil, "exec", "talker", "-c", "main", "--", "/no/such/binary")
	if code != 127 || !strings.Contains(errOut, "/no/such/binary") {
		t.Errorf("exec of a missing binary: exit %d, stderr %q; want 127 and the reason", code, errOut)
	}

	// Clear errors, as kubectl prints them.
	wl.expectErr("container nope is not valid for pod talker: choose one of [main side]", "logs", "talker", "-c", "nope")
	wl.expectErr("a container name must be specified for pod talker, choose one of: [main side]", "logs", "talker")
	wl.expectErr(`pods "ghost" not found`, "exec", "ghost", "--", "true")
	wl.expectErr("container nope is not valid", "exec", "talker", "-c", "nope", "--", "true")

	// -f: a line written later arrives; the follower ends on SIGINT.
	follow := wl.start("logs", "-f", "talker", "-c", "main")
	waitFor(t, "-f prints the log so far", 20*time.Second, func() bool { return follow.out.String() == "hello-from-pod\nto-stderr\n" })
	wl.expect(nil, 0, "", "", "exec", "talker", "-c", "main", "--", "touch", "/tmp/more")
	waitFor(t, "-f prints the new line", 20*time.Second, func() bool { return strings.HasSuffix(follow.out.String(), "more-line\n") })
	follow.cmd.Process.Signal(syscall.SIGINT)
	if err := follow.wait(10 * time.Second); err != nil {
		t.Errorf("weir logs -f after SIGINT: %v; stderr %q", err, follow.errOut.String())
	}

	// A follower ends when the pod is deleted.
	follow = wl.start("logs", "-f", "talker", "-c", "main")
	waitFor(t, "-f started", 20*time.Second, func() bool { return strings.Contains(follow.out.String(), "more-line") })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.api.Delete(ctx, gvrPods, "default", "talker"); err != nil {
		t.Fatal(err)
	}
	if err := follow.wait(30 * time.Second); err != nil {
		t.Errorf("weir logs -f after the pod was deleted: %v; stderr %q", err, follow.errOut.String())
	}
}

// podRunning reads a pod and records its UID for the cleanup.
func (c *cluster) podRunning(t *testing.T, name string, uids *uidSet) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := c.api.Get(ctx, gvrPods, "default", name)
	if err != nil {
		return false
	}
	var p corev1.Pod
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p); err != nil {
		t.Fatalf("decode pod: %v", err)
	}
	uids.add(string(p.UID))
	return p.Status.Phase == corev1.PodRunning
}

// weirCLI runs weir client commands in the underlay netns against the member.
type weirCLI struct {
	c *cluster
	t *testing.T
}

func (w *weirCLI) command(ctx context.Context, args ...string) *exec.Cmd {
	tok, err := os.ReadFile(filepath.Join(w.c.dir, "member", "token"))
	if err != nil {
		w.t.Fatal(err)
	}
	// The client flags go right after the subcommand, before any "--".
	full := []string{"--net=/run/netns/" + w.c.ul.Name, w.c.weir, args[0], "--server", apiAddr, "--token", strings.TrimSpace(string(tok)),
		"--certificate-authority", filepath.Join(w.c.dir, "member", "ca.crt")}
	full = append(full, args[1:]...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.c.dir} // no client config or WEIR_* of the host
	return cmd
}

// syncBuf is a buffer a command writes while the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run runs a command to its end and returns stdout, stderr and exit code.
func (w *weirCLI) run(stdin *strings.Reader, args ...string) (string, string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := w.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = stdin
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("weir %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (w *weirCLI) expect(stdin *strings.Reader, code int, stdout, stderr string, args ...string) {
	w.t.Helper()
	out, errOut, got := w.run(stdin, args...)
	if got != code || out != stdout || errOut != stderr {
		w.t.Errorf("weir %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", args, got, out, errOut, code, stdout, stderr)
	}
}

func (w *weirCLI) expectErr(want string, args ...string) {
	w.t.Helper()
	_, errOut, code := w.run(nil, args...)
	if code != 1 || !strings.Contains(errOut, want) {
		w.t.Errorf("weir %q: exit %d, stderr %q; want 1 and %q", args, code, errOut, want)
	}
}

// bgCLI is a weir command running in the background.
type bgCLI struct {
	cmd         *exec.Cmd
	out, errOut *syncBuf
	done        chan error
}

func (w *weirCLI) start(args ...string) *bgCLI {
	w.t.Helper()
	b := &bgCLI{cmd: w.command(context.Background(), args...), out: &syncBuf{}, errOut: &syncBuf{}, done: make(chan error, 1)}
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.errOut
	if err := b.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	w.t.Cleanup(func() {
		b.cmd.Process.Kill()
		<-b.done
	})
	return b
}

// wait waits for the command's end; an exit status other than 0 is an error.
func (b *bgCLI) wait(d time.Duration) error {
	select {
	case err := <-b.done:
		b.done <- err // for the cleanup
		return err
	case <-time.After(d):
		return context.DeadlineExceeded
	}
}
