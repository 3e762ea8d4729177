package runtime

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/oci"
	corev1 "k8s.io/api/core/v1"
)

// Security contexts, applied as the kubelet and containerd's CRI plugin
// apply them: the container's securityContext with the pod's fields as
// defaults, turned into OCI spec options on top of containerd's default
// spec (its capability set is the one Kubernetes calls the runtime
// default).

// effectiveSecurity is the container's securityContext with the pod's
// runAsUser, runAsGroup, runAsNonRoot and seccompProfile filling what the
// container leaves unset (the kubelet's DetermineEffectiveSecurityContext).
func effectiveSecurity(pod *corev1.Pod, c *corev1.Container) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{}
	if c.SecurityContext != nil {
		sc = c.SecurityContext.DeepCopy()
	}
	if psc := pod.Spec.SecurityContext; psc != nil {
		if sc.RunAsUser == nil {
			sc.RunAsUser = psc.RunAsUser
		}
		if sc.RunAsGroup == nil {
			sc.RunAsGroup = psc.RunAsGroup
		}
		if sc.RunAsNonRoot == nil {
			sc.RunAsNonRoot = psc.RunAsNonRoot
		}
		if sc.SeccompProfile == nil {
			sc.SeccompProfile = psc.SeccompProfile
		}
	}
	return sc
}

// imageUser is the USER of the image's config ("" when it names none).
func imageUser(ctx context.Context, img containerd.Image) (string, error) {
	spec, err := img.Spec(ctx)
	if err != nil {
		return "", fmt.Errorf("image config of %s: %w", img.Name(), err)
	}
	return spec.Config.User, nil
}

// verifyRunAsNonRoot refuses, as the kubelet does (its wording; the
// container waits with CreateContainerConfigError), a container that has
// runAsNonRoot and would run as root: runAsUser 0, or no runAsUser and
// an image whose user is root, unset or not numeric (which cannot be
// verified).
func verifyRunAsNonRoot(pod *corev1.Pod, c *corev1.Container, sc *corev1.SecurityContext, user string) error {
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		return nil
	}
	podName := fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
	if sc.RunAsUser != nil {
		if *sc.RunAsUser == 0 {
			return &configError{fmt.Errorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", podName, c.Name)}
		}
		return nil
	}
	name, _, _ := strings.Cut(user, ":")
	uid, err := strconv.ParseInt(name, 10, 64)
	switch {
	case name == "" || err == nil && uid == 0:
		return &configError{fmt.Errorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podName, c.Name)}
	case err != nil:
		return &configError{fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", name, podName, c.Name)}
	}
	return nil
}

// securityOpts are the spec options of the container's effective
// security context sc (see effectiveSecurity), applied after the image
// config (which set the image's user and its /etc/group groups).
func securityOpts(pod *corev1.Pod, sc *corev1.SecurityContext, user string) []oci.SpecOpts {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	opts := userOpts(sc, psc, user)
	// kube's default is to allow privilege escalation (containerd's
	// default spec sets no_new_privs); allowPrivilegeEscalation false
	// sets it
	opts = append(opts, oci.WithNewPrivileges)
	if ape := sc.AllowPrivilegeEscalation; ape != nil && !*ape {
		opts = append(opts, oci.WithNoNewPrivileges)
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	opts = append(opts, capabilityOpts(sc.Capabilities)...)
	privileged := sc.Privileged != nil && *sc.Privileged
	if privileged {
		// every capability, no masked or read-only /proc paths, writable
		// /sys and cgroupfs, no seccomp, the host's devices
		opts = append(opts, oci.WithPrivileged, oci.WithHostDevices, oci.WithAllDevicesAllowed)
	} else if p := sc.SeccompProfile; p != nil && p.Type == corev1.SeccompProfileTypeRuntimeDefault {
		// after the capabilities: the profile allows what they need
		opts = append(opts, seccomp.WithDefaultProfile())
	} else {
		opts = append(opts, oci.WithSeccompUnconfined) // unset is Unconfined, as the kubelet's default
	}
	if len(psc.Sysctls) > 0 {
		opts = append(opts, withSysctls(psc.Sysctls))
	}
	return opts
}

// userOpts set the process's uid, gid and groups: runAsUser (its gid
// from the image's /etc/passwd, else 0) and runAsGroup override the
// image's user; with runAsGroup alone the image's user keeps its uid.
// The groups are the primary gid, the image's /etc/group groups of the
// user (not under supplementalGroupsPolicy Strict), fsGroup and
// supplementalGroups.
func userOpts(sc *corev1.SecurityContext, psc *corev1.PodSecurityContext, image string) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if sc.RunAsUser != nil || sc.RunAsGroup != nil {
		u, _, _ := strings.Cut(image, ":")
		if u == "" {
			u = "0"
		}
		if sc.RunAsUser != nil {
			u = strconv.FormatInt(*sc.RunAsUser, 10)
		}
		userstr := u
		if sc.RunAsGroup != nil {
			userstr += ":" + strconv.FormatInt(*sc.RunAsGroup, 10)
		}
		opts = append(opts, oci.WithUser(userstr), oci.WithAdditionalGIDs(u))
	}
	if p := psc.SupplementalGroupsPolicy; p != nil && *p == corev1.SupplementalGroupsPolicyStrict {
		opts = append(opts, withOnlyPrimaryGroup)
	}
	var extra []int64
	if psc.FSGroup != nil {
		extra = append(extra, *psc.FSGroup)
	}
	extra = append(extra, psc.SupplementalGroups...)
	if len(extra) > 0 {
		opts = append(opts, withGroups(extra))
	}
	return opts
}

// withOnlyPrimaryGroup drops the groups read from the image.
func withOnlyPrimaryGroup(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
	s.Process.User.AdditionalGids = []uint32{s.Process.User.GID}
	return nil
}

// withGroups adds supplementary groups to the process.
func withGroups(gids []int64) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		for _, g := range gids {
			if !slices.Contains(s.Process.User.AdditionalGids, uint32(g)) {
				s.Process.User.AdditionalGids = append(s.Process.User.AdditionalGids, uint32(g))
			}
		}
		return nil
	}
}

// capabilityOpts add and drop capabilities from the runtime default set
// (containerd's), as containerd's CRI plugin does: "ALL" first (add:
// every capability the agent has; drop: none left), then the named ones
// (upper-cased, CAP_ prefixed).
func capabilityOpts(caps *corev1.Capabilities) []oci.SpecOpts {
	if caps == nil {
		return nil
	}
	isAll := func(c corev1.Capability) bool { return strings.EqualFold(string(c), "ALL") }
	var opts []oci.SpecOpts
	if slices.ContainsFunc(caps.Add, isAll) {
		opts = append(opts, oci.WithAllCurrentCapabilities)
	}
	if slices.ContainsFunc(caps.Drop, isAll) {
		opts = append(opts, oci.WithCapabilities(nil))
	}
	return append(opts, oci.WithAddedCapabilities(capNames(caps.Add)), oci.WithDroppedCapabilities(capNames(caps.Drop)))
}

func capNames(cs []corev1.Capability) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if !strings.EqualFold(string(c), "ALL") {
			out = append(out, "CAP_"+strings.ToUpper(string(c)))
		}
	}
	return out
}

// podSysctls are the names of the pod's sysctls, dot-separated.
func podSysctls(pod *corev1.Pod) []string {
	var out []string
	if sc := pod.Spec.SecurityContext; sc != nil {
		for _, s := range sc.Sysctls {
			out = append(out, sysctlName(s.Name))
		}
	}
	return out
}

// withSysctls sets the pod's sysctls in the container's namespaces
// (runc writes them under /proc/sys); names may use / as the separator.
func withSysctls(sysctls []corev1.Sysctl) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		for _, sc := range sysctls {
			s.Linux.Sysctl[sysctlName(sc.Name)] = sc.Value
		}
		return nil
	}
}

// sysctlName is a sysctl's name with dots as separators: a name whose
// first separator is a slash (kernel/shm_rmid_forced, or net/ipv4/conf/
// eth0.1/forwarding) has its slashes and dots swapped, as Kubernetes
// normalizes it.
func sysctlName(name string) string {
	if i := strings.IndexAny(name, "./"); i < 0 || name[i] == '.' {
		return name
	}
	return strings.NewReplacer(".", "/", "/", ".").Replace(name)
}
