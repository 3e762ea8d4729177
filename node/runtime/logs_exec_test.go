package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

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

	// Follow: new output arrives; ending ctx ends the follow.
	fctx, fcancel := context.WithCancel(ctx)
	var followed syncBuffer
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
	if _, err := n.rt.Exec(ctx, "default", "chatty", "web", []string{"/no/such/binary"}, nil, io.Discard, io.Discard); err == nil {
		t.Error("exec of a missing binary: no error")
	}
	if _, err := n.rt.Exec(ctx, "default", "chatty", "nope", []string{"true"}, nil, io.Discard, io.Discard); !errors.Is(err, ErrContainerNotFound) {
		t.Errorf("unknown container: %v, want ErrContainerNotFound", err)
	}
	if err := n.rt.Logs(ctx, "default", "ghost", "web", LogOptions{}, io.Discard); !errors.Is(err, ErrPodNotFound) {
		t.Errorf("unknown pod: %v, want ErrPodNotFound", err)
	}
	if err := n.rt.Logs(ctx, "default", "chatty", "web", LogOptions{Previous: true}, io.Discard); !errors.Is(err, ErrNoLog) {
		t.Errorf("previous log before a restart: %v, want ErrNoLog", err)
	}

	// A restart: the follow of the old instance ends; previous holds its log.
	var old syncBuffer
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
	var out, errb syncBuffer
	code, err := n.rt.Exec(ctx, "default", "chatty", "web", cmd, stdin, &out, &errb)
	if err != nil || code != wantCode || out.String() != wantOut || errb.String() != wantErr {
		t.Errorf("exec %q = %d %v, stdout %q stderr %q; want %d, %q, %q", cmd, code, err, out.String(), errb.String(), wantCode, wantOut, wantErr)
	}
}
