package api

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

// What ServiceAccount admission gives a pod, with kube's names and values.
const (
	// TokenMountPath is where every container finds token, ca.crt and
	// namespace.
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// TokenVolumePrefix starts the projected volume's name
	// (kube-api-access-XXXXX).
	TokenVolumePrefix = "kube-api-access-"
	// RootCAConfigMap is the ConfigMap with the cluster CA (key ca.crt)
	// that control/controllers publishes in every namespace.
	RootCAConfigMap = "kube-root-ca.crt"
	// TokenExpirationSeconds is the projected token's requested lifetime:
	// kube's 1 h + 7 s, which marks tokens the kubelet refreshes.
	TokenExpirationSeconds = 3607
	mirrorPodAnnotation    = "kubernetes.io/config.mirror"
)

// admitPodServiceAccount is kube's ServiceAccount admission for a pod
// being created (tokens on; mirror pods are left alone): the pod runs as
// spec.serviceAccountName (default "default"), which must exist (403
// "error looking up service account NS/NAME: ..."; the default one is
// waited for up to about 2 s, as the controller makes it), and unless the
// pod or its ServiceAccount sets automountServiceAccountToken false, the
// pod gets the projected volume kube-api-access-XXXXX (a bound token,
// kube-root-ca.crt's ca.crt and the namespace) mounted read-only at
// TokenMountPath in every container that mounts nothing there.
func (s *Server) admitPodServiceAccount(ctx context.Context, rq *request, pod *corev1.Pod) error {
	if s.saTokens() == nil || pod.Annotations[mirrorPodAnnotation] != "" {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = "default"
	}
	sa, err := s.lookUpServiceAccount(ctx, pod.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return errForbidden(rq.res, pod.Name, fmt.Errorf("error looking up service account %s/%s: %w", pod.Namespace, pod.Spec.ServiceAccountName, err))
	}
	automount := sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken
	if pod.Spec.AutomountServiceAccountToken != nil {
		automount = *pod.Spec.AutomountServiceAccountToken
	}
	if !automount {
		return nil
	}
	name := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, TokenVolumePrefix) && v.Projected != nil {
			name = v.Name // already there (e.g. a pod copied from another)
		}
	}
	if name == "" {
		name = TokenVolumePrefix + utilrand.String(5)
		pod.Spec.Volumes = append(pod.Spec.Volumes, TokenVolume(name))
	}
	mount := func(cs []corev1.Container) {
		for i := range cs {
			c := &cs[i]
			has := false
			for _, m := range c.VolumeMounts {
				has = has || m.MountPath == TokenMountPath
			}
			if !has {
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: TokenMountPath})
			}
		}
	}
	mount(pod.Spec.InitContainers)
	mount(pod.Spec.Containers)
	return nil
}

// TokenVolume is kube's projected ServiceAccount volume.
func TokenVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: new(int64(TokenExpirationSeconds))}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMap},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
		DefaultMode: new(int32(corev1.ProjectedVolumeSourceDefaultMode)),
	}}}
}

// lookUpServiceAccount reads a ServiceAccount; the default one is retried
// for a while, as kube's admission does, since the controller creates it
// moments after its namespace.
func (s *Server) lookUpServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	rd := objectReader{st: s.store, reg: s.reg}
	attempts := 1
	if name == "default" {
		attempts = 10
	}
	wait := time.Duration(100+rand.IntN(100)) * time.Millisecond
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		}
		var o object
		if o, err = rd.get(ctx, "serviceaccounts", ns, name, false); err == nil {
			return o.(*corev1.ServiceAccount), nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("serviceaccount %q not found", name)
}
