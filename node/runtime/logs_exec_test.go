package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	"github.com/google/uuid"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// TestLogsAndExec: a container's stdout and stderr are in its log (all,
// tailed, followed); after a restart the previous instance's log is kept
// apart; exec runs commands in the container with its environment, stdin
// and exit code; unknown pods and containers are clear errors.
func TestLogsAndExec(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("chatty", types.UID(uuid.NewString()))
	pod.Spec.Containers[0].Command = []string{"/bin/sh", "-c",
		`echo out-1; sleep 0.2; echo err-1 >&2; sleep 0.2; echo out-2; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo after-go; sleep 1000`}
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "GREETING", Value: "hi from env"}}
	n.rt.Sync([]corev1.Pod{pod})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	logs := func(opts LogOptions) string {
		var b bytes.Buffer
		if err := n.rt.Logs(ctx, "default", "chatty", "web", opts, &b); err != nil {
			t.Fatalf("logs %+v: %v", opts, err)
		}
		return b.String()
	}
	waitFor(t, "first log lines", 60*time.Second, func() bool {
		var b bytes.Buffer
		return n.rt.Logs(ctx, "default", "chatty", "web", LogOptions{TailLines: -1}, &b) == nil && strings.Contains(b.String(), "out-2")
	})
	if got := logs(LogOptions{TailLines: -1}); got != "out-1\nerr-1\nout-2\n" {
		t.Errorf("log = %q, want stdout and stderr lines in order (0.2 s apart)", got)
	}
	if got := logs(LogOptions{TailLines: 2}); got != "err-1\nout-2\n" {
		t.Errorf("tail 2 = %q", got)
	}
	if got := logs(LogOptions{TailLines: 0}); got != "" {
		t.Errorf("tail 0 = %q", got)
	}
	// The CRI log's times: as prefixes, and to select lines by.
	stamped := logs(LogOptions{TailLines: -1, Timestamps: true})
	if !regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (out-1|err-1|out-2)\n){3}$`).MatchString(stamped) {
		t.Errorf("timestamps = %q, want RFC3339Nano prefixes", stamped)
	}
	second, err := time.Parse(time.RFC3339Nano, strings.Fields(strings.Split(stamped, "\n")[1])[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := logs(LogOptions{TailLines: -1, Since: second}); got != "err-1\nout-2\n" {
		t.Errorf("since the second line's time = %q", got)
	}
	if got := logs(LogOptions{TailLines: -1, Since: time.Now().Add(time.Minute)}); got != "" {
		t.Errorf("since the future = %q", got)
	}
	if got := logs(LogOptions{TailLines: -1, LimitBytes: 8}); got != "out-1\ner" {
		t.Errorf("limitBytes 8 = %q", got)
	}

	// Follow: new output arrives; ending ctx ends the follow.
	fctx, fcancel := context.WithCancel(ctx)
	var followed testutil.SyncBuffer
	fdone := make(chan error, 1)
	go func() {
		fdone <- n.rt.Logs(fctx, "default", "chatty", "web", LogOptions{Follow: true, TailLines: 1}, &followed)
	}()
	checkExec(t, n, ctx, []string{"touch", "/tmp/go"}, nil, 0, "", "")
	waitFor(t, "followed line", 10*time.Second, func() bool { return followed.String() == "out-2\nafter-go\n" })
	fcancel()
	if err := <-fdone; err != nil {
		t.Errorf("follow ended with %v", err)
	}

	checkExec(t, n, ctx, []string{"sh", "-c", `echo "$GREETING"; echo oops >&2; exit 3`}, nil, 3, "hi from env\n", "oops\n")
	checkExec(t, n, ctx, []string{"sh", "-c", "wc -l"}, strings.NewReader("a\nb\nc\n"), 0, "3\n", "")
	checkExec(t, n, ctx, []string{"id", "-u"}, nil, 0, "0\n", "")
	// A terminal: the command sees one, of the size sent.
	resize := make(chan TerminalSize, 1)
	resize <- TerminalSize{Width: 101, Height: 31}
	var tty testutil.SyncBuffer
	ttyIn, ttyInW := io.Pipe() // a terminal's input stays open while its user is there
	defer ttyInW.Close()
	code, err := n.rt.Exec(ctx, "default", "chatty", "web", []string{"sh", "-c", "sleep 0.5; test -t 0 && test -t 1 && stty size"},
		ExecOptions{Stdin: ttyIn, Stdout: &tty, TTY: true, Resize: resize})
	if err != nil || code != 0 || tty.String() != "31 101\r\n" {
		t.Errorf("exec with a terminal = %d %v, output %q; want 0 and \"31 101\\r\\n\"", code, err, tty.String())
	}
	if _, err := n.rt.Exec(ctx, "default", "chatty", "web", []string{"/no/such/binary"}, ExecOptions{}); err == nil {
		t.Error("exec of a missing binary: no error")
	}
	if _, err := n.rt.Exec(ctx, "default", "chatty", "nope", []string{"true"}, ExecOptions{}); !errors.Is(err, ErrContainerNotFound) {
		t.Errorf("unknown container: %v, want ErrContainerNotFound", err)
	}
	if err := n.rt.Logs(ctx, "default", "ghost", "web", LogOptions{}, io.Discard); !errors.Is(err, ErrPodNotFound) {
		t.Errorf("unknown pod: %v, want ErrPodNotFound", err)
	}
	if err := n.rt.Logs(ctx, "default", "chatty", "web", LogOptions{Previous: true}, io.Discard); !errors.Is(err, ErrNoLog) {
		t.Errorf("previous log before a restart: %v, want ErrNoLog", err)
	}

	// A restart: the follow of the old instance ends; previous holds its log.
	var old testutil.SyncBuffer
	odone := make(chan error, 1)
	go func() {
		odone <- n.rt.Logs(ctx, "default", "chatty", "web", LogOptions{Follow: true, TailLines: -1}, &old)
	}()
	time.Sleep(300 * time.Millisecond)
	killTask(t, n, ctx, containerID(string(pod.UID), "web"))
	select {
	case err := <-odone:
		if err != nil || old.String() != "out-1\nerr-1\nout-2\nafter-go\n" {
			t.Errorf("follow across the container's end: %q %v", old.String(), err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("follow did not end when the container stopped")
	}
	waitFor(t, "restarted", 30*time.Second, func() bool {
		st := n.rep.get("default/chatty")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].RestartCount == 1 && st.ContainerStatuses[0].State.Running != nil
	})
	if got := logs(LogOptions{Previous: true, TailLines: -1}); got != "out-1\nerr-1\nout-2\nafter-go\n" {
		t.Errorf("previous log = %q", got)
	}
	waitFor(t, "new instance's log", 10*time.Second, func() bool {
		var b bytes.Buffer
		return n.rt.Logs(ctx, "default", "chatty", "web", LogOptions{TailLines: -1}, &b) == nil && b.String() == "out-1\nerr-1\nout-2\n"
	})
	// Attach: the output from now on, by stream, until ctx ends.
	actx, acancel := context.WithCancel(ctx)
	var aout, aerr testutil.SyncBuffer
	adone := make(chan error, 1)
	go func() { adone <- n.rt.Attach(actx, "default", "chatty", "web", &aout, &aerr) }()
	time.Sleep(300 * time.Millisecond)
	checkExec(t, n, ctx, []string{"sh", "-c", "echo attached-out > /proc/1/fd/1; echo attached-err > /proc/1/fd/2"}, nil, 0, "", "")
	waitFor(t, "attached output", 10*time.Second, func() bool {
		return aout.String() == "attached-out\n" && aerr.String() == "attached-err\n"
	})
	acancel()
	if err := <-adone; err != nil {
		t.Errorf("attach ended with %v", err)
	}
}

// killTask SIGKILLs a container's task through containerd (its PID 1
// ignores signals from inside).
func killTask(t *testing.T, n *testNode, ctx context.Context, id string) {
	t.Helper()
	client, err := containerd.New(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx = namespaces.WithNamespace(ctx, "weir-n1")
	ctr, err := client.LoadContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Kill(ctx, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

func checkExec(t *testing.T, n *testNode, ctx context.Context, cmd []string, stdin io.Reader, wantCode int, wantOut, wantErr string) {
	t.Helper()
	var out, errb testutil.SyncBuffer
	code, err := n.rt.Exec(ctx, "default", "chatty", "web", cmd, ExecOptions{Stdin: stdin, Stdout: &out, Stderr: &errb})
	if err != nil || code != wantCode || out.String() != wantOut || errb.String() != wantErr {
		t.Errorf("exec %q = %d %v, stdout %q stderr %q; want %d, %q, %q", cmd, code, err, out.String(), errb.String(), wantCode, wantOut, wantErr)
	}
}

// TestStreamPortForward: a port-forward reaches the pod's TCP echo port on
// its loopback, the client's half-close reaches the server, and a closed
// port is an error.
func TestStreamPortForward(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("pf", types.UID(uuid.NewString()))
	n.rt.Sync([]corev1.Pod{pod})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	waitFor(t, "pf running", 60*time.Second, func() bool {
		st := n.rep.get("default/pf")
		return len(st.ContainerStatuses) == 1 && st.ContainerStatuses[0].State.Running != nil
	})
	var echoed string
	waitFor(t, "echo through the forward", 20*time.Second, func() bool {
		client, server := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- n.rt.PortForward(ctx, "default", "pf", 9000, server) }()
		client.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Write([]byte("ping-through\n")); err != nil {
			client.Close()
			<-done
			return false
		}
		buf := make([]byte, 64)
		k, _ := io.ReadAtLeast(client, buf, len("ping-through\n"))
		echoed = string(buf[:k])
		client.Close()
		<-done
		return echoed == "ping-through\n"
	})
	client, server := net.Pipe()
	defer client.Close()
	if err := n.rt.PortForward(ctx, "default", "pf", 9999, server); err == nil {
		t.Error("port-forward to a closed port: no error")
	}
	if err := n.rt.PortForward(ctx, "default", "ghost", 9000, server); !errors.Is(err, ErrPodNotFound) {
		t.Errorf("port-forward to an unknown pod: %v, want ErrPodNotFound", err)
	}
}

// TestStreamLogsAcrossAdoption: a container's output written while no
// agent reads it, and after a new runtime adopted the container, lands in
// the same CRI log (each line once, stamped), and exec and Logs work on
// the adopted container.
func TestStreamLogsAcrossAdoption(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	pod := testPod("relog", types.UID(uuid.NewString()))
	pod.Spec.Containers[0].Command = []string{"/bin/sh", "-c",
		`i=0; echo first; while true; do if [ -e /tmp/more ]; then rm /tmp/more; i=$((i+1)); echo "more-$i"; fi; sleep 0.1; done`}
	n.rt.Sync([]corev1.Pod{pod})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	logsOf := func(rt *Runtime) string {
		var b bytes.Buffer
		if err := rt.Logs(ctx, "default", "relog", "web", LogOptions{TailLines: -1, Timestamps: true}, &b); err != nil {
			return "error: " + err.Error()
		}
		return b.String()
	}
	stamp := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z `
	waitFor(t, "first line", 60*time.Second, func() bool { return regexp.MustCompile(`^` + stamp + `first\n$`).MatchString(logsOf(n.rt)) })

	n.rt.Close() // detach: the container keeps running and writing
	checkExecIn := func(rt *Runtime) {
		if code, err := rt.Exec(ctx, "default", "relog", "web", []string{"touch", "/tmp/more"}, ExecOptions{}); err != nil || code != 0 {
			t.Fatalf("exec: %d %v", code, err)
		}
	}
	cfg := n.rt.cfg
	cfg.Report = func(PodReport) {}
	// While no runtime reads, the container's line waits in its pipe.
	cl, err := containerd.New(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	nctx := namespaces.WithNamespace(ctx, "weir-n1")
	ctr, err := cl.LoadContainer(nctx, containerID(string(pod.UID), "web"))
	if err != nil {
		t.Fatal(err)
	}
	task, err := ctr.Task(nctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	proc, err := task.Exec(nctx, "relog-touch", &specs.Process{Args: []string{"/bin/touch", "/tmp/more"}, Cwd: "/"}, cio.NullIO)
	if err != nil {
		t.Fatal(err)
	}
	exitCh, _ := proc.Wait(nctx)
	if err := proc.Start(nctx); err != nil {
		t.Fatal(err)
	}
	<-exitCh
	proc.Delete(nctx)
	time.Sleep(500 * time.Millisecond) // the line is written to the pipe by now

	stale := filepath.Join(cfg.DataDir, "log-fifo", "stale-of-an-ended-task")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	rt2 := adoptingRuntime(t, cfg)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a FIFO dir of no task survived a new runtime: %v", err)
	}
	rt2.Sync([]corev1.Pod{pod})
	waitFor(t, "the line written while away", 30*time.Second, func() bool {
		return regexp.MustCompile(`^` + stamp + `first\n` + stamp + `more-1\n$`).MatchString(logsOf(rt2))
	})
	checkExecIn(rt2)
	waitFor(t, "a line after adoption", 30*time.Second, func() bool {
		return regexp.MustCompile(`^` + stamp + `first\n` + stamp + `more-1\n` + stamp + `more-2\n$`).MatchString(logsOf(rt2))
	})
}
