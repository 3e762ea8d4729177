package runtime

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Claims finds the PersistentVolume of a pod's persistentVolumeClaim
// volume (Config.Claims): the node agent reads the claim and its bound
// volume from the API, as the kubelet's volume manager does.
type Claims interface {
	// Volume is the PersistentVolume claim namespace/name is bound to; an
	// error when the claim is missing, not bound yet, or its volume
	// unreadable.
	Volume(ctx context.Context, namespace, claim string) (*corev1.PersistentVolume, error)
}

// ErrClaimNotBound: the claim has no volume yet.
var ErrClaimNotBound = errors.New("runtime: persistentvolumeclaim is not bound")

// claimPath is the host directory of a claim's volume: a hostPath
// volume's path after its type check (the local-path provisioner's
// volumes are DirectoryOrCreate: made on first use), or a local
// volume's path, which must be a directory.
func (r *Runtime) claimPath(ctx context.Context, pod *corev1.Pod, v *corev1.PersistentVolumeClaimVolumeSource) (string, error) {
	if r.cfg.Claims == nil {
		return "", errors.New("this node agent reads no PersistentVolumeClaims")
	}
	pv, err := r.cfg.Claims.Volume(ctx, pod.Namespace, v.ClaimName)
	if err != nil {
		return "", err
	}
	switch {
	case pv.Spec.HostPath != nil:
		return pv.Spec.HostPath.Path, checkHostPath(pv.Spec.HostPath.Path, pv.Spec.HostPath.Type)
	case pv.Spec.Local != nil:
		d := corev1.HostPathDirectory
		return pv.Spec.Local.Path, checkHostPath(pv.Spec.Local.Path, &d)
	}
	return "", fmt.Errorf("persistentvolume %s has no hostPath or local source", pv.Name)
}
