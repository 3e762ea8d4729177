package localcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
)

// selfCheck: from every node (its netns and cgroup, so that its socket
// load balancer translates), the demo's ClusterIP answers with both
// backends; from every demo pod, the demo answers by name through DNS.
func selfCheck(ctx context.Context, cfg *Config, s state, clusterIP string) error {
	for _, n := range s.Nodes {
		seen := map[string]bool{}
		var last error
		err := waitFor(ctx, "the demo from "+n.Name+" by ClusterIP "+clusterIP, 30*time.Second, func() (bool, error) {
			out, err := inNode(ctx, n, "busybox", "wget", "-q", "-O", "-", "http://"+clusterIP+"/")
			if err != nil {
				last = fmt.Errorf("%v: %s", err, out)
			} else {
				seen[out] = true
			}
			return len(seen) >= 2, nil
		})
		if err != nil {
			return fmt.Errorf("%w (answers %v, last error %v)", err, seen, last)
		}
		fmt.Fprintf(cfg.Out, "    %s -> http://%s/ (ClusterIP): answered by %s\n", n.Name, clusterIP, keys(seen))
	}
	for _, n := range s.Nodes {
		pids, err := taskPIDs(ctx, s.Containerd, "weir-"+n.Name)
		if err != nil {
			return err
		}
		for _, pid := range pids {
			var out string
			err := waitFor(ctx, "the demo by name from a pod on "+n.Name, 30*time.Second, func() (bool, error) {
				out, err = inPod(ctx, s.Cgroup2, pid, "busybox", "wget", "-q", "-O", "-", "http://"+demoApp+"/")
				return err == nil, nil
			})
			if err != nil {
				return fmt.Errorf("%w: %s", err, out)
			}
			fmt.Fprintf(cfg.Out, "    pod on %s -> http://%s/ (DNS name): answered by %s\n", n.Name, demoApp, out)
		}
	}
	return nil
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}

// inNode runs a command in node n's netns and cgroup.
func inNode(ctx context.Context, n nodeSpec, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	script := "echo $$ > " + filepath.Join(n.Cgroup, "cgroup.procs") + " && exec nsenter --net=/run/netns/" + n.Name + " " + strings.Join(args, " ")
	out, err := exec.CommandContext(ctx, "sh", "-c", script).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// inPod runs a command in the namespaces (net, mount, uts) and cgroup v2
// of the container process pid.
func inPod(ctx context.Context, cgroup2 string, pid uint32, args ...string) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	var cg string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			cg = rest
		}
	}
	if cg == "" {
		return "", fmt.Errorf("no cgroup v2 for PID %d", pid)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	script := fmt.Sprintf("echo $$ > %s && exec nsenter -t %d -n -m -u %s", filepath.Join(cgroup2, cg, "cgroup.procs"), pid, strings.Join(args, " "))
	out, err := exec.CommandContext(ctx, "sh", "-c", script).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// taskPIDs lists the PIDs of the running tasks of a containerd namespace.
func taskPIDs(ctx context.Context, sock, ns string) ([]uint32, error) {
	c, err := containerd.New(sock, containerd.WithTimeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd %s: %w", sock, err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(ctx, ns), 5*time.Second)
	defer cancel()
	ctrs, err := c.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", ns, err)
	}
	var pids []uint32
	for _, ctr := range ctrs {
		if task, err := ctr.Task(ctx, nil); err == nil {
			pids = append(pids, task.Pid())
		}
	}
	return pids, nil
}
