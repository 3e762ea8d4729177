package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
)

// Waiting reasons of a container whose image is not there, as the
// kubelet gives them.
const (
	reasonErrImagePull      = "ErrImagePull"
	reasonImagePullBackOff  = "ImagePullBackOff"
	reasonErrImageNeverPull = "ErrImageNeverPull"
	reasonInvalidImageName  = "InvalidImageName"
)

// pullTimeout bounds one pull from a registry.
const pullTimeout = 5 * time.Minute

// imageError is a failure to get a container's image; reason is the
// container's waiting reason.
type imageError struct {
	reason string
	err    error
}

func (e *imageError) Error() string { return e.err.Error() }
func (e *imageError) Unwrap() error { return e.err }

// pullPolicy is the container's imagePullPolicy or, when empty (a static
// pod's manifest need not say), the API's default: Always for an image
// tagged latest or not tagged at all, else IfNotPresent.
func pullPolicy(c *corev1.Container, named reference.Named) corev1.PullPolicy {
	if c.ImagePullPolicy != "" {
		return c.ImagePullPolicy
	}
	tagged, isTagged := named.(reference.Tagged)
	_, isDigested := named.(reference.Digested)
	if isTagged && tagged.Tag() == "latest" || !isTagged && !isDigested {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// ensureImage returns the unpacked local image of a container under its
// pull policy: Never uses the local image only, IfNotPresent pulls a
// missing one, Always resolves the reference at its registry and pulls
// when the registry's digest differs from the local image's (an
// unreachable registry fails it, as with the kubelet). pulling is called
// before the wait for a pull; stop ends that wait (the pull goes on for
// other pods waiting for the same image). A pull uses the credentials of
// the pod's image pull secrets (pull_auth.go) for the image's registry.
func (r *Runtime) ensureImage(ctx context.Context, c *corev1.Container, secrets []*corev1.Secret, stop <-chan struct{}, pulling func()) (containerd.Image, error) {
	named, err := reference.ParseNormalizedNamed(c.Image)
	if err != nil {
		return nil, &imageError{reasonInvalidImageName, fmt.Errorf("Failed to apply default image tag %q: couldn't parse image name %q: %v", c.Image, c.Image, err)}
	}
	ref := reference.TagNameOnly(named).String()
	policy := pullPolicy(c, named)
	if policy != corev1.PullAlways {
		img, err := r.localImage(ctx, ref)
		switch {
		case err == nil:
			return img, nil
		case !errdefs.IsNotFound(err):
			return nil, err
		case policy == corev1.PullNever:
			return nil, &imageError{reasonErrImageNeverPull, fmt.Errorf("Container image %q is not present with pull policy of Never (import it with `weir image import FILE.tar`)", c.Image)}
		}
	}
	creds, err := credsFor(secrets, named)
	if err != nil {
		return nil, &imageError{reasonErrImagePull, err}
	}
	pulling()
	return r.sharedPull(ctx, ref, creds, stop)
}

// localImage is the image named ref in the node's namespace, unpacked
// into the snapshotter; a missing one is a NotFound error.
func (r *Runtime) localImage(ctx context.Context, ref string) (containerd.Image, error) {
	img, err := r.client.GetImage(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	if err := r.unpack(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

func (r *Runtime) unpack(ctx context.Context, img containerd.Image) error {
	if ok, err := img.IsUnpacked(ctx, r.cfg.Snapshotter); err == nil && ok {
		return nil
	}
	if err := img.Unpack(ctx, r.cfg.Snapshotter); err != nil {
		return fmt.Errorf("unpack %s: %w", img.Name(), err)
	}
	return nil
}

// pull pulls ref with each of creds in turn until one works (none:
// anonymously), as the kubelet tries its keyring's credentials.
func (r *Runtime) pull(ctx context.Context, ref string, creds []pullCred) (containerd.Image, error) {
	if len(creds) == 0 {
		return r.pullWith(ctx, ref, nil)
	}
	var errs []error
	for _, c := range creds {
		img, err := r.pullWith(ctx, ref, docker.WithAuthorizer(authorizer(ref, c)))
		if err == nil {
			return img, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, &imageError{reasonErrImagePull, errors.Join(errs...)}
}

// pullWith resolves ref at its registry and pulls and unpacks it unless
// the local image already has the registry's digest; auth (nil: none)
// authorizes the requests.
func (r *Runtime) pullWith(ctx context.Context, ref string, auth docker.RegistryOpt) (containerd.Image, error) {
	ropts := []docker.RegistryOpt{docker.WithPlainHTTP(r.plainHTTP)}
	if auth != nil {
		ropts = append(ropts, auth)
	}
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(ropts...)})
	_, desc, err := resolver.Resolve(ctx, ref)
	if err != nil {
		return nil, &imageError{reasonErrImagePull, fmt.Errorf("failed to resolve image %q at its registry: %w", ref, err)}
	}
	if img, err := r.client.GetImage(ctx, ref); err == nil && img.Target().Digest == desc.Digest {
		return img, r.unpack(ctx, img)
	}
	start := time.Now()
	img, err := r.client.Pull(ctx, ref, containerd.WithResolver(resolver), containerd.WithPullUnpack,
		containerd.WithPullSnapshotter(r.cfg.Snapshotter))
	if err != nil {
		return nil, &imageError{reasonErrImagePull, fmt.Errorf("failed to pull and unpack image %q: %w", ref, err)}
	}
	r.cfg.Logger.Info("pulled image", "image", ref, "digest", desc.Digest, "took", time.Since(start).Round(time.Millisecond))
	return img, nil
}

// plainHTTP says which registries are reached over plain HTTP: loopback
// ones and those of Config.InsecureRegistries.
func (r *Runtime) plainHTTP(host string) (bool, error) {
	if slices.Contains(r.cfg.InsecureRegistries, host) {
		return true, nil
	}
	return docker.MatchLocalhost(host)
}
