package testutil

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"golang.org/x/sys/unix"
)

// StartContainerd runs a private containerd (own root, state and socket in
// a temp dir, CRI off) and stops it by PID when the test ends, after
// removing every container it holds and unmounting what it left. It
// returns the socket path.
func StartContainerd(t *testing.T) string {
	t.Helper()
	RequireBinary(t, "containerd", exec.LookPath)
	RequireBinary(t, "runc", exec.LookPath)
	dir, err := os.MkdirTemp("/tmp", "weir-containerd-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "containerd.sock")
	conf := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n[ttrpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "containerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start containerd: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		RemoveAllContainers(t, sock)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if b, err := os.ReadFile(logPath); t.Failed() && err == nil {
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("containerd log tail:\n%s", b)
		}
		UnmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove containerd dir: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not create %s in 20s; see %s", sock, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// UnmountUnder lazily unmounts every mount below dir, deepest first.
func UnmountUnder(t testing.TB, dir string) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	defer f.Close()
	var mounts []string
	for s := bufio.NewScanner(f); s.Scan(); {
		if fields := strings.Fields(s.Text()); len(fields) > 1 && strings.HasPrefix(fields[1], dir+"/") {
			mounts = append(mounts, fields[1])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(mounts[i], unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mounts[i], err)
		}
	}
}

// RemoveAllContainers kills and deletes every container of the containerd
// at sock, in every namespace, so that no shim or container process
// outlives the test.
func RemoveAllContainers(t testing.TB, sock string) {
	client, err := containerd.New(sock)
	if err != nil {
		t.Errorf("connect to test containerd: %v", err)
		return
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nss, _ := client.NamespaceService().List(ctx)
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		ctrs, _ := client.Containers(nctx)
		for _, c := range ctrs {
			if task, err := c.Task(nctx, nil); err == nil {
				_ = task.Kill(nctx, syscall.SIGKILL, containerd.WithKillAll)
				if _, err := task.Delete(nctx, containerd.WithProcessKill); err != nil {
					t.Errorf("delete task %s: %v", c.ID(), err)
				}
			}
			if err := c.Delete(nctx, containerd.WithSnapshotCleanup); err != nil {
				t.Errorf("delete container %s: %v", c.ID(), err)
			}
		}
	}
}
