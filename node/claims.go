package node

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/weirnet/weir/node/runtime"
)

// claims reads a pod's PersistentVolumeClaim and the PersistentVolume it
// is bound to from the API (runtime.Claims), as the kubelet does when it
// mounts one; the node authorizer lets a node read exactly the claims of
// its pods and their volumes.
type claims struct{ api *apiClient }

func (c claims) Volume(ctx context.Context, namespace, claim string) (*corev1.PersistentVolume, error) {
	var pv *corev1.PersistentVolume
	err := c.api.do(ctx, func(cs kubernetes.Interface) error {
		pvc, err := cs.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, claim, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("persistentvolumeclaim %s/%s: %w", namespace, claim, err)
		}
		if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
			return fmt.Errorf("persistentvolumeclaim %s/%s: %w", namespace, claim, runtime.ErrClaimNotBound)
		}
		pv, err = cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("persistentvolume %s of claim %s/%s: %w", pvc.Spec.VolumeName, namespace, claim, err)
		}
		if r := pv.Spec.ClaimRef; r == nil || r.Namespace != namespace || r.Name != claim || (r.UID != "" && r.UID != pvc.UID) {
			return fmt.Errorf("persistentvolume %s is not bound to claim %s/%s", pv.Name, namespace, claim)
		}
		return nil
	})
	return pv, err
}
