package client

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	Template    map[string]any
}

// RolloutHistory returns the Deployment and its revisions, oldest first,
// from the ReplicaSets it controls.
func (c *Client) RolloutHistory(ctx context.Context, namespace, name string) (*unstructured.Unstructured, []Revision, error) {
	d, err := c.Get(ctx, DeploymentsGVR, namespace, name)
	if err != nil {
		return nil, nil, err
	}
	list, err := c.List(ctx, ReplicaSetsGVR, namespace, ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list replicasets of deployment %q: %w", name, err)
	}
	var revs []Revision
	for i := range list.Items {
		rs := &list.Items[i]
		n, err := strconv.ParseInt(rs.GetAnnotations()[RevisionAnnotation], 10, 64)
		if !controlledBy(rs, d) || err != nil {
			continue
		}
		tpl, _, _ := unstructured.NestedMap(rs.Object, "spec", "template")
		revs = append(revs, Revision{Number: n, ChangeCause: rs.GetAnnotations()[ChangeCauseAnnotation], ReplicaSet: rs.GetName(), Template: tpl})
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i].Number < revs[j].Number })
	return d, revs, nil
}

func controlledBy(obj, owner *unstructured.Unstructured) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller && ref.UID == owner.GetUID() {
			return true
		}
	}
	return false
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
	err := c.updateDeployment(ctx, namespace, name, func(d *unstructured.Unstructured) (bool, error) {
		_, revs, err := c.RolloutHistory(ctx, namespace, name)
		if err != nil {
			return false, err
		}
		target, err := pickRevision(name, revs, toRevision)
		if err != nil {
			return false, err
		}
		if paused, _, _ := unstructured.NestedBool(d.Object, "spec", "paused"); paused {
			return false, fmt.Errorf("deployment %q is paused: resume it (set spec.paused to false) before rolling back", name)
		}
		tpl := runtimeCopy(target.Template)
		unstructured.RemoveNestedField(tpl, "metadata", "labels", PodTemplateHashLabel)
		if labels, ok, _ := unstructured.NestedMap(tpl, "metadata", "labels"); ok && len(labels) == 0 {
			unstructured.RemoveNestedField(tpl, "metadata", "labels")
		}
		cur, _, _ := unstructured.NestedMap(d.Object, "spec", "template")
		if reflect.DeepEqual(cur, tpl) {
			msg = fmt.Sprintf("%s skipped rollback (current template already matches revision %d)", ref, target.Number)
			return false, nil
		}
		if err := unstructured.SetNestedMap(d.Object, tpl, "spec", "template"); err != nil {
			return false, fmt.Errorf("set template of deployment %q: %w", name, err)
		}
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

func setChangeCause(d *unstructured.Unstructured, cause string) {
	ann := d.GetAnnotations()
	if cause == "" {
		delete(ann, ChangeCauseAnnotation)
	} else {
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ChangeCauseAnnotation] = cause
	}
	d.SetAnnotations(ann)
}

// RolloutRestart sets the pod template's restartedAt annotation to now, so
// the Deployment rolls out fresh pods.
func (c *Client) RolloutRestart(ctx context.Context, namespace, name string, now time.Time) error {
	return c.updateDeployment(ctx, namespace, name, func(d *unstructured.Unstructured) (bool, error) {
		if paused, _, _ := unstructured.NestedBool(d.Object, "spec", "paused"); paused {
			return false, fmt.Errorf("can't restart paused deployment %q: resume it (set spec.paused to false) first", name)
		}
		if err := unstructured.SetNestedField(d.Object, now.UTC().Format(time.RFC3339),
			"spec", "template", "metadata", "annotations", RestartedAtAnnotation); err != nil {
			return false, fmt.Errorf("set restartedAt on deployment %q: %w", name, err)
		}
		return true, nil
	})
}

// updateDeployment reads the Deployment, lets change edit it and writes it
// back conditionally, retrying when another writer got there first.
func (c *Client) updateDeployment(ctx context.Context, namespace, name string, change func(*unstructured.Unstructured) (bool, error)) error {
	const attempts = 5
	for i := 0; ; i++ {
		d, err := c.Get(ctx, DeploymentsGVR, namespace, name)
		if err != nil {
			return err
		}
		changed, err := change(d)
		if err != nil || !changed {
			return err
		}
		_, err = c.Update(ctx, DeploymentsGVR, namespace, d)
		if err == nil || !apierrors.IsConflict(err) || i == attempts-1 {
			return err
		}
	}
}

func runtimeCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}
