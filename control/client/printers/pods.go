package printers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
)

var podTable = table{
	headers: []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
	wide:    []string{"IP", "NODE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		pod, err := typed[corev1.Pod](obj)
		if err != nil {
			return nil, nil, err
		}
		ready, total := podReady(pod)
		cols := []string{
			pod.Name,
			fmt.Sprintf("%d/%d", ready, total),
			PodStatus(pod),
			podRestarts(pod, now),
			age(pod.CreationTimestamp, now),
		}
		return cols, []string{orNone(pod.Status.PodIP), orNone(pod.Spec.NodeName)}, nil
	},
}

func podReady(pod *corev1.Pod) (ready, total int) {
	total = len(pod.Spec.Containers)
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Ready {
			ready++
		}
	}
	return ready, total
}

// podRestarts sums container restarts, with how long ago the last one
// ended, like kubectl: "2 (5m ago)".
func podRestarts(pod *corev1.Pod, now time.Time) string {
	restarts := int32(0)
	var last time.Time
	for _, cs := range pod.Status.ContainerStatuses {
		restarts += cs.RestartCount
		if t := cs.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(last) {
			last = t.FinishedAt.Time
		}
	}
	if restarts == 0 || last.IsZero() {
		return fmt.Sprint(restarts)
	}
	return fmt.Sprintf("%d (%s ago)", restarts, duration.HumanDuration(now.Sub(last)))
}

// PodStatus is the STATUS column of a pod: the most telling of its
// deletion, init containers, container states, reason and phase.
func PodStatus(pod *corev1.Pod) string {
	if pod.DeletionTimestamp != nil {
		return "Terminating"
	}
	if s, ok := initStatus(pod); ok {
		return s
	}
	status := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		status = pod.Status.Reason
	}
	if status == "" {
		status = "Pending"
	}
	running := false
	for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
		cs := pod.Status.ContainerStatuses[i]
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			return cs.State.Waiting.Reason
		case cs.State.Terminated != nil:
			status = terminatedReason(cs.State.Terminated)
		case cs.State.Running != nil && cs.Ready:
			running = true
		}
	}
	if status == "Completed" && running {
		return "Running"
	}
	return status
}

// initStatus reports "Init:..." while init containers have not all
// succeeded.
func initStatus(pod *corev1.Pod) (string, bool) {
	n := len(pod.Spec.InitContainers)
	for i, cs := range pod.Status.InitContainerStatuses {
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case cs.State.Terminated != nil:
			return "Init:" + terminatedReason(cs.State.Terminated), true
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			return "Init:" + cs.State.Waiting.Reason, true
		default:
			return fmt.Sprintf("Init:%d/%d", i, n), true
		}
	}
	return "", false
}

func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	}
	return fmt.Sprintf("ExitCode:%d", t.ExitCode)
}
