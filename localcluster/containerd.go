package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"golang.org/x/sys/unix"
)

const containerdProc = "containerd"

// startContainerd runs weir's private containerd (root, state, socket
// and config under the data dir; CRI off) unless it already runs, and
// waits for its socket.
func startContainerd(ctx context.Context, cfg *Config) error {
	if _, ok := runningRecorded(cfg, containerdProc, "containerd"); ok {
		return nil
	}
	dir := cfg.containerdDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sock := cfg.containerdSock()
	conf := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n[ttrpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	confPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return err
	}
	proc, err := startProc(cfg, containerdProc, "", "containerd", "--config", confPath)
	if err != nil {
		return err
	}
	return waitFor(ctx, "containerd socket", 30*time.Second, func() (bool, error) {
		if err := proc.exited(); err != nil {
			return false, err
		}
		c, err := containerd.New(sock, containerd.WithTimeout(2*time.Second))
		if err != nil {
			return false, nil
		}
		defer c.Close()
		ok, _ := c.IsServing(ctx)
		return ok, nil
	})
}

// removeAllContainers kills and deletes every container of weir's
// containerd so that no shim or container process outlives `weir down`.
func removeAllContainers(sock string) error {
	client, err := containerd.New(sock, containerd.WithTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", sock, err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nss, err := client.NamespaceService().List(ctx)
	if err != nil {
		return fmt.Errorf("list containerd namespaces: %w", err)
	}
	var errs []string
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		ctrs, _ := client.Containers(nctx)
		for _, c := range ctrs {
			if task, err := c.Task(nctx, nil); err == nil {
				_ = task.Kill(nctx, syscall.SIGKILL, containerd.WithKillAll)
				if _, err := task.Delete(nctx, containerd.WithProcessKill); err != nil {
					errs = append(errs, fmt.Sprintf("delete task %s: %v", c.ID(), err))
				}
			}
			if err := c.Delete(nctx, containerd.WithSnapshotCleanup); err != nil {
				errs = append(errs, fmt.Sprintf("delete container %s: %v", c.ID(), err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove containers: %s", strings.Join(errs, "; "))
	}
	return nil
}

// unmountUnder lazily unmounts every mount below dir, deepest first.
func unmountUnder(dir string) error {
	mounts, err := readMounts()
	if err != nil {
		return err
	}
	var below []string
	for _, m := range mounts {
		if strings.HasPrefix(m[1], dir+"/") {
			below = append(below, m[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(below)))
	for _, m := range below {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			return fmt.Errorf("unmount %s: %w", m, err)
		}
	}
	return nil
}

// waitFor polls cond every 100 ms until it is true, fails or d passes.
func waitFor(ctx context.Context, what string, d time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(d)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", d, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
