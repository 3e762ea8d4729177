package nodee2e

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

	"github.com/weirnet/weir/node/runtime"
	"github.com/weirnet/weir/node/runtime/testimage"
)

// startContainerd runs a private containerd for the nodes (own root,
// state and socket in a temp dir, CRI off) and stops it by PID when the
// test ends, unmounting what it left. It returns the socket path.
func startContainerd(t *testing.T) string {
	t.Helper()
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
		removeAllContainers(t, sock)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			t.Logf("containerd log tail:\n%s", tail(logPath, 20))
		}
		unmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove containerd dir: %v", err)
		}
	})
	waitFor(t, "containerd socket", 20*time.Second, func() bool {
		_, err := os.Stat(sock)
		return err == nil
	})
	return sock
}

// unmountUnder lazily unmounts every mount below dir, deepest first.
func unmountUnder(t *testing.T, dir string) {
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

// removeAllContainers kills and deletes every container of the daemon,
// so that no shim or container process outlives the test.
func removeAllContainers(t *testing.T, sock string) {
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

// containerCount is the number of containers in a containerd namespace.
func containerCount(sock, ns string) (int, error) {
	client, err := containerd.New(sock)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), 5*time.Second)
	defer cancel()
	ctrs, err := client.Containers(ctx)
	return len(ctrs), err
}

// importTestImage imports the test image (WEIR_BIN/weir-testimage.tar
// from `make image`, else built now) into the nodes' containerd
// namespaces with the code `weir image import` runs.
func importTestImage(t *testing.T, sock string, nodeNames ...string) {
	t.Helper()
	archive := ""
	if dir := os.Getenv("WEIR_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "weir-testimage.tar")); err == nil {
			archive = filepath.Join(dir, "weir-testimage.tar")
		}
	}
	if archive == "" {
		archive = filepath.Join(t.TempDir(), "testimage.tar")
		if err := testimage.Build(context.Background(), archive); err != nil {
			t.Fatalf("build the test image: %v", err)
		}
	}
	for _, n := range nodeNames {
		names, err := runtime.ImportFile(context.Background(), sock, "weir-"+n, "overlayfs", archive)
		if err != nil || len(names) != 1 || names[0] != testimage.Name {
			t.Fatalf("import the test image for %s: %v %v", n, names, err)
		}
	}
}

// taskPIDs maps each running container of a containerd namespace to its
// task's PID.
func taskPIDs(t *testing.T, sock, ns string) map[string]uint32 {
	t.Helper()
	client, err := containerd.New(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), ns), 5*time.Second)
	defer cancel()
	ctrs, err := client.Containers(ctx)
	if err != nil {
		t.Fatalf("list containers of %s: %v", ns, err)
	}
	out := map[string]uint32{}
	for _, c := range ctrs {
		if task, err := c.Task(ctx, nil); err == nil {
			out[c.ID()] = task.Pid()
		}
	}
	return out
}
