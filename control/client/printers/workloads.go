package printers

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
)

var workloadWide = []string{"CONTAINERS", "IMAGES", "SELECTOR"}

var deploymentTable = table{
	headers: []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"},
	wide:    workloadWide,
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		d, err := typed[appsv1.Deployment](obj)
		if err != nil {
			return nil, nil, err
		}
		cols := []string{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
			fmt.Sprint(d.Status.UpdatedReplicas), fmt.Sprint(d.Status.AvailableReplicas), age(d.CreationTimestamp, now)}
		return cols, podTemplateWide(d.Spec.Template, d.Spec.Selector), nil
	},
}

var replicaSetTable = table{
	headers: []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"},
	wide:    workloadWide,
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		rs, err := typed[appsv1.ReplicaSet](obj)
		if err != nil {
			return nil, nil, err
		}
		cols := []string{rs.Name, fmt.Sprint(replicas(rs.Spec.Replicas)), fmt.Sprint(rs.Status.Replicas),
			fmt.Sprint(rs.Status.ReadyReplicas), age(rs.CreationTimestamp, now)}
		return cols, podTemplateWide(rs.Spec.Template, rs.Spec.Selector), nil
	},
}

var jobTable = table{
	headers: []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"},
	wide:    workloadWide,
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		j, err := typed[batchv1.Job](obj)
		if err != nil {
			return nil, nil, err
		}
		completions := "1"
		if j.Spec.Completions != nil {
			completions = fmt.Sprint(*j.Spec.Completions)
		}
		cols := []string{j.Name, JobStatus(j), fmt.Sprintf("%d/%s", j.Status.Succeeded, completions),
			jobDuration(j, now), age(j.CreationTimestamp, now)}
		return cols, podTemplateWide(j.Spec.Template, j.Spec.Selector), nil
	},
}

// replicas is spec.replicas with the API default of 1.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func podTemplateWide(t corev1.PodTemplateSpec, sel *metav1.LabelSelector) []string {
	var names, images []string
	for _, c := range t.Spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	selector := "<none>"
	if sel != nil {
		if s := metav1.FormatLabelSelector(sel); s != "" {
			selector = s
		}
	}
	return []string{joinOrNone(names), joinOrNone(images), selector}
}

// JobStatus is Complete, Failed, Suspended or Running from the job's
// conditions.
func JobStatus(j *batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return "Complete"
		case batchv1.JobFailed:
			return "Failed"
		case batchv1.JobSuspended:
			return "Suspended"
		}
	}
	return "Running"
}

func jobDuration(j *batchv1.Job, now time.Time) string {
	if j.Status.StartTime == nil {
		return ""
	}
	end := now
	if j.Status.CompletionTime != nil {
		end = j.Status.CompletionTime.Time
	}
	return duration.HumanDuration(end.Sub(j.Status.StartTime.Time))
}
