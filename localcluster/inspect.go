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

// Cluster describes a running local cluster from its data dir, for tests
// and tools that reach into it: its nodes and members, the recorded PIDs,
// and commands run inside a node, the underlay or a pod.
type Cluster struct {
	DataDir string
	st      state
}

// Node is one node of a local cluster.
type Node struct{ Name, IP, Cgroup string }

// Member is one control member of a local cluster.
type Member struct{ Name, IP, API string }

// Inspect reads what `weir up` recorded in dataDir.
func Inspect(dataDir string) (*Cluster, error) {
	cfg := Config{DataDir: dataDir}
	st, err := loadState(cfg.stateFile())
	if err != nil {
		return nil, fmt.Errorf("no local cluster in %s: %w", dataDir, err)
	}
	return &Cluster{DataDir: dataDir, st: st}, nil
}

// Nodes lists the nodes in order.
func (c *Cluster) Nodes() []Node {
	var out []Node
	for _, n := range c.st.Nodes {
		out = append(out, Node{n.Name, n.IP, n.Cgroup})
	}
	return out
}

// Members lists the control members in order.
func (c *Cluster) Members() []Member {
	var out []Member
	for _, m := range c.st.Members {
		out = append(out, Member{m.Name, m.IP, m.api()})
	}
	return out
}

// Underlay is the underlay netns name.
func (c *Cluster) Underlay() string { return c.st.Underlay }

// Token is the API token.
func (c *Cluster) Token() string {
	data, _ := os.ReadFile(filepath.Join(c.DataDir, "control", "token"))
	return strings.TrimSpace(string(data))
}

// PID is the recorded process name (a member, node or "containerd",
// "api-proxy") when it still runs.
func (c *Cluster) PID(name string) (int, bool) {
	cfg := Config{DataDir: c.DataDir}
	want := "weir"
	if name == containerdProc {
		want = "containerd"
	}
	id, ok := runningRecorded(&cfg, name, want)
	return id.PID, ok
}

// NodeCommand is a command run in node's netns and cgroup (so that its
// socket load balancer translates service addresses).
func (c *Cluster) NodeCommand(ctx context.Context, node string, args ...string) (*exec.Cmd, error) {
	for _, n := range c.st.Nodes {
		if n.Name == node {
			script := "echo $$ > " + filepath.Join(n.Cgroup, "cgroup.procs") + " && exec nsenter --net=/run/netns/" + n.Name + " " + strings.Join(args, " ")
			return exec.CommandContext(ctx, "sh", "-c", script), nil
		}
	}
	return nil, fmt.Errorf("no node %s in %s", node, c.DataDir)
}

// InNode runs a command in node's netns and cgroup (5 s at most).
func (c *Cluster) InNode(ctx context.Context, node string, args ...string) (string, error) {
	for _, n := range c.st.Nodes {
		if n.Name == node {
			return inNode(ctx, n, args...)
		}
	}
	return "", fmt.Errorf("no node %s in %s", node, c.DataDir)
}

// InUnderlay runs a command in the underlay netns (outside every node;
// 10 s at most).
func (c *Cluster) InUnderlay(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + c.st.Underlay}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// PodPIDs maps the UID of each pod running on node to its first
// container's process.
func (c *Cluster) PodPIDs(ctx context.Context, node string) (map[string]uint32, error) {
	cl, err := containerd.New(c.st.Containerd, containerd.WithTimeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd %s: %w", c.st.Containerd, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(ctx, "weir-"+node), 5*time.Second)
	defer cancel()
	ctrs, err := cl.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", node, err)
	}
	out := map[string]uint32{}
	for _, ctr := range ctrs {
		task, err := ctr.Task(ctx, nil)
		if err != nil {
			continue
		}
		st, err := task.Status(ctx)
		if err != nil || st.Status != containerd.Running {
			continue
		}
		if uid := podUIDOf(ctr.ID()); uid != "" {
			if _, ok := out[uid]; !ok {
				out[uid] = task.Pid()
			}
		}
	}
	return out, nil
}

// podUIDOf: the runtime names containers <pod UID>-<container name>.
func podUIDOf(id string) string {
	if len(id) < 37 || id[36] != '-' {
		return ""
	}
	return id[:36]
}

// InPod runs a command in the namespaces and cgroup of a pod's container
// process (5 s at most).
func (c *Cluster) InPod(ctx context.Context, pid uint32, args ...string) (string, error) {
	return inPod(ctx, c.st.Cgroup2, pid, args...)
}
