package runtime

import (
	"context"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Volumes materializes pod volumes on the node (Config.Volumes): the
// agent's projected ServiceAccount volumes (node/projected.go). emptyDir
// volumes are the runtime's own (emptydir.go).
type Volumes interface {
	// SetUp writes pod's volumes under dir (the pod's own directory,
	// removed with the pod) and returns the host directory of each volume
	// it handles, by volume name; containers bind-mount them read-only
	// where their volumeMounts say. Called when the sandbox is set up or
	// adopted; an error fails the sandbox (retried with back-off).
	SetUp(ctx context.Context, pod *corev1.Pod, dir string) (map[string]string, error)
	// TearDown forgets the pod's volumes (stops refreshing them); its
	// directory goes with the pod's.
	TearDown(uid types.UID)
	// Update gives the API's current copy of a running pod, at every
	// Sync (it must not block): downward API files follow its labels and
	// annotations.
	Update(pod *corev1.Pod)
}

// setUpVolumes makes the pod's emptyDir volumes (emptydir.go), checks its
// hostPath volumes (hostpath.go), finds its claims' volumes (pvc.go) and
// asks Config.Volumes for the others.
func (r *Runtime) setUpVolumes(ctx context.Context, s *sandbox, pod *corev1.Pod) error {
	vols, err := setUpEmptyDirs(s, pod)
	if err != nil {
		return fmt.Errorf("volumes: %w", err)
	}
	s.writable = map[string]bool{}
	for name := range vols {
		s.writable[name] = true
	}
	// hostPath and persistentVolumeClaim volumes are host directories
	// (or files) bind-mounted as they are, writable unless read-only.
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		var src string
		var err error
		switch {
		case v.HostPath != nil:
			src, err = v.HostPath.Path, checkHostPath(v.HostPath.Path, v.HostPath.Type)
			s.writable[v.Name] = true
		case v.PersistentVolumeClaim != nil:
			src, err = r.claimPath(ctx, pod, v.PersistentVolumeClaim)
			s.writable[v.Name] = !v.PersistentVolumeClaim.ReadOnly
		default:
			continue
		}
		if err != nil {
			return &MountError{Volume: v.Name, Err: err}
		}
		vols[v.Name] = src
	}
	if r.cfg.Volumes != nil {
		more, err := r.cfg.Volumes.SetUp(ctx, pod, s.dir)
		if err != nil {
			return fmt.Errorf("volumes: %w", err)
		}
		for name, dir := range more {
			if _, ok := vols[name]; !ok {
				vols[name] = dir
			}
		}
	}
	s.volumes = vols
	return nil
}

// volumeMounts are c's mounts of the volumes SetUp materialized: read-only,
// but emptyDir, hostPath and (not readOnly) persistentVolumeClaim volumes
// read-write unless the volumeMount says readOnly.
func volumeMounts(s *sandbox, c *corev1.Container) []specs.Mount {
	var out []specs.Mount
	for _, vm := range c.VolumeMounts {
		if src, ok := s.volumes[vm.Name]; ok && vm.SubPath == "" {
			m := bindMount(src, vm.MountPath)
			if s.writable[vm.Name] && !vm.ReadOnly {
				m.Options = []string{"rbind", "rprivate", "rw"}
			}
			out = append(out, m)
		}
	}
	return out
}
