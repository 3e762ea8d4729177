package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/plugin"
	runcoptions "github.com/containerd/containerd/runtime/v2/runc/options"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// Labels on containerd containers: which pod and container they run.
const (
	labelPodUID    = "weir.dev/pod-uid"
	labelPod       = "weir.dev/pod"
	labelContainer = "weir.dev/container"
)

func containerID(podUID, name string) string { return podUID + "-" + name }

// ctrInput is what a container's spec is made from.
type ctrInput struct {
	pod *corev1.Pod
	c   *corev1.Container
	// env is its environment (containerEnv), with which $(VAR)
	// references in command and args are expanded
	env      []corev1.EnvVar
	sc       *corev1.SecurityContext // effective (secctx.go)
	user     string                  // the image's USER
	subPaths []specs.Mount           // subPath mounts (subpath.go)
}

// specOpts turns a pod container into OCI spec options.
func (r *Runtime) specOpts(img containerd.Image, s *sandbox, in ctrInput) []oci.SpecOpts {
	pod, c, env := in.pod, in.c, in.env
	command, args := expandCommand(c.Command, env), expandCommand(c.Args, env)
	imageConfig := oci.WithImageConfig(img)
	if len(command) == 0 && len(args) > 0 {
		imageConfig = oci.WithImageConfigArgs(img, args) // the image's entrypoint, the pod's args
	}
	mounts := append([]specs.Mount{bindMount(filepath.Join(s.dir, "hosts"), "/etc/hosts"),
		bindMount(filepath.Join(s.dir, "resolv.conf"), "/etc/resolv.conf")}, volumeMounts(s, c)...)
	mounts = append(mounts, in.subPaths...)
	// parents before what is mounted below them, as containerd's CRI
	// plugin orders them
	slices.SortStableFunc(mounts, func(a, b specs.Mount) int {
		return strings.Count(filepath.Clean(a.Destination), "/") - strings.Count(filepath.Clean(b.Destination), "/")
	})
	opts := []oci.SpecOpts{imageConfig, oci.WithHostname(hostname(pod)),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: s.netnsPath()}),
		oci.WithCgroup(filepath.Join(s.cgroupR, c.Name)),
		oci.WithMounts(mounts)}
	if len(command) > 0 {
		opts = append(opts, oci.WithProcessArgs(append(append([]string{}, command...), args...)...))
	}
	if c.WorkingDir != "" {
		opts = append(opts, oci.WithProcessCwd(c.WorkingDir))
	}
	if len(env) > 0 {
		opts = append(opts, oci.WithEnv(envStrings(env)))
	}
	opts = append(opts, resourceOpts(c.Resources)...)
	return append(opts, securityOpts(pod, in.sc, in.user)...)
}

func bindMount(src, dst string) specs.Mount {
	return specs.Mount{Source: src, Destination: dst, Type: "bind", Options: []string{"rbind", "rprivate", "ro"}}
}

func resourceOpts(res corev1.ResourceRequirements) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if m, ok := res.Limits[corev1.ResourceMemory]; ok && m.Value() > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(m.Value())))
	}
	if cpu, ok := res.Limits[corev1.ResourceCPU]; ok && cpu.MilliValue() > 0 {
		const period = 100000
		opts = append(opts, oci.WithCPUCFS(cpu.MilliValue()*period/1000, period))
	}
	if cpu, ok := res.Requests[corev1.ResourceCPU]; ok && cpu.MilliValue() > 0 {
		opts = append(opts, oci.WithCPUShares(uint64(max(2, cpu.MilliValue()*1024/1000))))
	}
	return opts
}

// createContainer makes a fresh containerd container (removing a stale one
// with the same ID) of img and its task, with the environment env,
// logging to the pod dir.
func (r *Runtime) createContainer(ctx context.Context, s *sandbox, pod *corev1.Pod, c *corev1.Container, img containerd.Image, env []corev1.EnvVar) (containerd.Task, error) {
	sc := effectiveSecurity(pod, c)
	user, err := imageUser(ctx, img)
	if err != nil {
		return nil, err
	}
	if err := verifyRunAsNonRoot(pod, c, sc, user); err != nil {
		return nil, err
	}
	if s.hostNet != "" && slices.ContainsFunc(podSysctls(pod), func(n string) bool { return strings.HasPrefix(n, "net.") }) {
		return nil, &configError{fmt.Errorf("net sysctls may not be set in a hostNetwork pod")}
	}
	subPaths, err := subPathMounts(s, c, env)
	if err != nil {
		return nil, err
	}
	id := containerID(s.id, c.Name)
	r.removeContainer(ctx, id)
	labels := map[string]string{labelPodUID: s.id, labelPod: pod.Namespace + "/" + pod.Name, labelContainer: c.Name}
	opts := []containerd.NewContainerOpts{containerd.WithImage(img), containerd.WithSnapshotter(r.cfg.Snapshotter),
		containerd.WithNewSnapshot(id, img), containerd.WithContainerLabels(labels),
		containerd.WithNewSpec(r.specOpts(img, s, ctrInput{pod: pod, c: c, env: env, sc: sc, user: user, subPaths: subPaths})...)}
	if r.cfg.RuncRoot != "" {
		opts = append(opts, containerd.WithRuntime(plugin.RuntimeRuncV2, &runcoptions.Options{Root: r.cfg.RuncRoot}))
	}
	ctr, err := r.client.NewContainer(ctx, id, opts...)
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", c.Name, err)
	}
	rotateLog(s, c.Name)
	task, err := ctr.NewTask(ctx, r.logCreator(s, c.Name))
	if err != nil {
		r.removeContainer(ctx, id)
		return nil, fmt.Errorf("create task %s: %w", c.Name, err)
	}
	return task, nil
}

func logPath(s *sandbox, name string) string { return filepath.Join(s.dir, name+".log") }

func previousLogPath(s *sandbox, name string) string {
	return filepath.Join(s.dir, name+".previous.log")
}

// rotateLog keeps the log of the container's last instance as its
// previous log, so that a new instance starts an empty current log.
func rotateLog(s *sandbox, name string) {
	os.Rename(logPath(s, name), previousLogPath(s, name))
}

// removeContainer kills and deletes a container, its task and snapshot;
// a missing one is not an error. Without a container, a snapshot of its
// ID is removed: a create interrupted between the snapshot and the
// container (the agent stopped) leaves one, and it would fail every
// later create.
func (r *Runtime) removeContainer(ctx context.Context, id string) error {
	ctr, err := r.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		if err := r.client.SnapshotService(r.cfg.Snapshotter).Remove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove leftover snapshot %s: %w", id, err)
		}
		return nil
	} else if err != nil {
		return err
	}
	if task, err := ctr.Task(ctx, nil); err == nil {
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("delete task %s: %w", id, err)
		}
	}
	if err := ctr.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete container %s: %w", id, err)
	}
	return nil
}
