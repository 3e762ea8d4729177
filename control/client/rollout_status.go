package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// ErrProgressDeadline is returned when a Deployment's Progressing
// condition says ProgressDeadlineExceeded.
var ErrProgressDeadline = errors.New("client: deployment exceeded its progress deadline")

// DeploymentRolloutStatus is kubectl's view of a rollout: a message, and
// whether the rollout is done. It fails once the controller reports
// ProgressDeadlineExceeded.
func DeploymentRolloutStatus(d *appsv1.Deployment) (msg string, done bool, err error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("deployment %q: %w (%s): see `weir describe deployment %s` and its pods", d.Name, ErrProgressDeadline, c.Message, d.Name)
		}
	}
	st := d.Status
	if d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas {
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...",
			d.Name, st.UpdatedReplicas, *d.Spec.Replicas), false, nil
	}
	if st.Replicas > st.UpdatedReplicas {
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...",
			d.Name, st.Replicas-st.UpdatedReplicas), false, nil
	}
	if st.AvailableReplicas < st.UpdatedReplicas {
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...",
			d.Name, st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}

// RolloutStatusOptions say how RolloutStatus follows a Deployment.
type RolloutStatusOptions struct {
	Namespace, Name string
	// Watch follows the rollout until it is done; false prints the
	// current status once.
	Watch bool
	// Timeout bounds the wait (0: no bound).
	Timeout time.Duration
}

// RolloutStatus prints each new status message of a Deployment's rollout
// to out, following it through a watch until it is done, fails, is
// deleted or the timeout passes.
func (c *Client) RolloutStatus(ctx context.Context, o RolloutStatusOptions, out io.Writer) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	f := &deploymentFollower{c: c, ns: o.Namespace, name: o.Name}
	defer f.close()
	last := ""
	for {
		d, err := f.next(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && o.Timeout > 0 {
				return fmt.Errorf("timed out after %s waiting for deployment %q rollout to finish; last status: %s "+
					"(check `weir get pods` and `weir describe deployment %s`, or raise --timeout)", o.Timeout, o.Name, last, o.Name)
			}
			return err
		}
		msg, done, err := DeploymentRolloutStatus(d)
		if err != nil {
			return err
		}
		if msg != last {
			fmt.Fprintln(out, msg)
			last = msg
		}
		if done || !o.Watch {
			return nil
		}
	}
}

// deploymentFollower yields a Deployment's versions: first a Get, then
// each change from a typed watch opened at the Get's revision; when the
// server ends the watch or says the revision is gone, it starts over with
// a Get.
type deploymentFollower struct {
	c        *Client
	ns, name string
	rv       string // "" until the first Get, and after a lost watch
	w        watch.Interface
}

func (f *deploymentFollower) next(ctx context.Context) (*appsv1.Deployment, error) {
	for ctx.Err() == nil {
		if f.rv == "" {
			return f.get(ctx)
		}
		if f.w == nil {
			w, err := f.c.deployments(f.ns).Watch(ctx, metav1.ListOptions{
				FieldSelector: "metadata.name=" + f.name, ResourceVersion: f.rv, AllowWatchBookmarks: true})
			if err != nil {
				return nil, fmt.Errorf("watch deployment %q: %w", f.name, f.c.wrapErr(err))
			}
			f.w = w
		}
		var ev watch.Event
		var ok bool
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case ev, ok = <-f.w.ResultChan():
		}
		switch {
		case !ok:
			f.close()
			f.rv = "" // the server ended the watch: read again
		case ev.Type == watch.Error:
			f.close()
			f.rv = ""
			err := apierrors.FromObject(ev.Object)
			if !apierrors.IsGone(err) && !apierrors.IsResourceExpired(err) {
				return nil, fmt.Errorf("watch deployment %q: %w", f.name, f.c.wrapErr(err))
			}
		case ev.Type == watch.Deleted:
			return nil, fmt.Errorf("deployment %q was deleted while waiting for its rollout", f.name)
		case ev.Type == watch.Added || ev.Type == watch.Modified:
			d, isD := ev.Object.(*appsv1.Deployment)
			if !isD {
				return nil, fmt.Errorf("watch deployment %q sent a %T", f.name, ev.Object)
			}
			f.rv = d.ResourceVersion
			return d, nil
		case ev.Type == watch.Bookmark:
			if m, err := meta.Accessor(ev.Object); err == nil && m.GetResourceVersion() != "" {
				f.rv = m.GetResourceVersion()
			}
		}
	}
	return nil, ctx.Err()
}

func (f *deploymentFollower) get(ctx context.Context) (*appsv1.Deployment, error) {
	d, err := f.c.getDeployment(ctx, f.ns, f.name)
	if err != nil {
		return nil, err
	}
	f.rv = d.ResourceVersion
	return d, nil
}

func (f *deploymentFollower) close() {
	if f.w != nil {
		f.w.Stop()
		f.w = nil
	}
}
