package client

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	"k8s.io/client-go/util/retry"
)

// Annotations and labels of Deployment rollouts, as Kubernetes names them.
const (
	RevisionAnnotation    = "deployment.kubernetes.io/revision"
	ChangeCauseAnnotation = "kubernetes.io/change-cause"
	RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
	PodTemplateHashLabel  = "pod-template-hash"
)

// Revision is one entry of a Deployment's rollout history: a ReplicaSet
// it owns and that ReplicaSet's revision and pod template.
type Revision struct {
	Number      int64
	ChangeCause string // "" when the ReplicaSet has none
	ReplicaSet  string
	Template    corev1.PodTemplateSpec
}

// deployments is the typed client of Deployments in namespace.
func (c *Client) deployments(namespace string) appsv1client.DeploymentInterface {
	return c.kube.AppsV1().Deployments(namespace)
}

// getDeployment reads a Deployment through the typed client.
func (c *Client) getDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	d, err := c.deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	return d, c.wrapErr(err)
}

// RolloutHistory returns the Deployment and its revisions, oldest first,
// from the ReplicaSets it controls.
func (c *Client) RolloutHistory(ctx context.Context, namespace, name string) (*appsv1.Deployment, []Revision, error) {
	d, err := c.getDeployment(ctx, namespace, name)
	if err != nil {
		return nil, nil, err
	}
	lctx, cancel := c.bounded(ctx)
	defer cancel()
	list, err := c.kube.AppsV1().ReplicaSets(namespace).List(lctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list replicasets of deployment %q: %w", name, c.wrapErr(err))
	}
	var revs []Revision
	for i := range list.Items {
		rs := &list.Items[i]
		n, err := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
		if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID || err != nil {
			continue
		}
		revs = append(revs, Revision{Number: n, ChangeCause: rs.Annotations[ChangeCauseAnnotation], ReplicaSet: rs.Name, Template: rs.Spec.Template})
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].Number < revs[j].Number })
	return d, revs, nil
}

// PrintHistory writes a history table as kubectl does.
func PrintHistory(w io.Writer, ref WorkloadRef, revs []Revision) error {
	fmt.Fprintln(w, ref.String())
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
	for _, r := range revs {
		cause := r.ChangeCause
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(tw, "%d\t%s\n", r.Number, cause)
	}
	return tw.Flush()
}

// RolloutUndo puts the pod template of revision toRevision (0: the one
// before the current) back into the Deployment, as kubectl does. It
// returns kubectl's message for the outcome.
func (c *Client) RolloutUndo(ctx context.Context, namespace, name string, toRevision int64) (string, error) {
	ref := WorkloadRef{GVR: DeploymentsGVR, Name: name}
	var msg string
	err := c.updateDeployment(ctx, namespace, name, func(d *appsv1.Deployment) (bool, error) {
		_, revs, err := c.RolloutHistory(ctx, namespace, name)
		if err != nil {
			return false, err
		}
		target, err := pickRevision(name, revs, toRevision)
		if err != nil {
			return false, err
		}
		if d.Spec.Paused {
			return false, fmt.Errorf("deployment %q is paused: resume it (set spec.paused to false) before rolling back", name)
		}
		tpl := *target.Template.DeepCopy()
		delete(tpl.Labels, PodTemplateHashLabel)
		if len(tpl.Labels) == 0 {
			tpl.Labels = nil
		}
		if equality.Semantic.DeepEqual(d.Spec.Template, tpl) {
			msg = fmt.Sprintf("%s skipped rollback (current template already matches revision %d)", ref, target.Number)
			return false, nil
		}
		d.Spec.Template = tpl
		setChangeCause(d, target.ChangeCause)
		msg = fmt.Sprintf("%s rolled back", ref)
		return true, nil
	})
	return msg, err
}

// pickRevision finds toRevision, or with 0 the newest revision before the
// current (highest) one.
func pickRevision(name string, revs []Revision, toRevision int64) (Revision, error) {
	if toRevision < 0 {
		return Revision{}, fmt.Errorf("invalid revision %d: pass a revision from `weir rollout history deployment/%s`", toRevision, name)
	}
	if toRevision == 0 {
		if len(revs) < 2 {
			return Revision{}, fmt.Errorf("no rollout history found for deployment %q: there is no previous revision to roll back to", name)
		}
		return revs[len(revs)-2], nil
	}
	for _, r := range revs {
		if r.Number == toRevision {
			return r, nil
		}
	}
	return Revision{}, fmt.Errorf("unable to find specified revision %d in history of deployment %q: see `weir rollout history deployment/%s`", toRevision, name, name)
}

func setChangeCause(d *appsv1.Deployment, cause string) {
	if cause == "" {
		delete(d.Annotations, ChangeCauseAnnotation)
		return
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[ChangeCauseAnnotation] = cause
}

// RolloutRestart sets the pod template's restartedAt annotation to now, so
// the Deployment rolls out fresh pods.
func (c *Client) RolloutRestart(ctx context.Context, namespace, name string, now time.Time) error {
	return c.updateDeployment(ctx, namespace, name, func(d *appsv1.Deployment) (bool, error) {
		if d.Spec.Paused {
			return false, fmt.Errorf("can't restart paused deployment %q: resume it (set spec.paused to false) first", name)
		}
		if d.Spec.Template.Annotations == nil {
			d.Spec.Template.Annotations = map[string]string{}
		}
		d.Spec.Template.Annotations[RestartedAtAnnotation] = now.UTC().Format(time.RFC3339)
		return true, nil
	})
}

// updateDeployment reads the Deployment, lets change edit it and writes it
// back conditionally, retrying when another writer got there first.
func (c *Client) updateDeployment(ctx context.Context, namespace, name string, change func(*appsv1.Deployment) (bool, error)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := c.getDeployment(ctx, namespace, name)
		if err != nil {
			return err
		}
		changed, err := change(d)
		if err != nil || !changed {
			return err
		}
		uctx, cancel := c.bounded(ctx)
		defer cancel()
		_, err = c.deployments(namespace).Update(uctx, d, metav1.UpdateOptions{})
		return c.wrapErr(err)
	})
}
