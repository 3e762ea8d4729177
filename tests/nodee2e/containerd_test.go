package nodee2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"

	"github.com/weirnet/weir/node/runtime"
	"github.com/weirnet/weir/node/runtime/testimage"
)

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
