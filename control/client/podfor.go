package client

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var gvrPods = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// PodFor resolves what `weir logs` and `weir exec` accept, as kubectl
// does: POD, pod/POD, or TYPE/NAME of an object with a pod selector
// (deploy/web, rs/web-5d9, job/migrate, svc/web). For a selector it picks
// one of the selected pods: Ready before Running before the rest, then the
// newest.
func (c *Client) PodFor(ctx context.Context, namespace, ref string) (string, error) {
	kind, name, ok := strings.Cut(ref, "/")
	if !ok {
		return ref, nil
	}
	if name == "" {
		return "", fmt.Errorf("%q: give TYPE/NAME, e.g. deploy/web", ref)
	}
	res, err := c.ResolveResource(ctx, kind)
	if err != nil {
		return "", err
	}
	if res.Kind == "Pod" {
		return name, nil
	}
	obj, err := c.Get(ctx, res.GVR(), namespace, name)
	if err != nil {
		return "", err
	}
	sel, err := podSelector(obj)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", res.Kind, name, err)
	}
	list, err := c.List(ctx, gvrPods, namespace, ListOptions{LabelSelector: sel})
	if err != nil {
		return "", err
	}
	pods := make([]corev1.Pod, 0, len(list.Items))
	for _, it := range list.Items {
		var p corev1.Pod
		if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(it.Object, &p); err == nil {
			pods = append(pods, p)
		}
	}
	if len(pods) == 0 {
		return "", fmt.Errorf("%s %s selects no pods (selector %s): check `weir get pods -l %s`", res.Kind, name, sel, sel)
	}
	sort.SliceStable(pods, func(i, j int) bool { return podRank(pods[i]) > podRank(pods[j]) })
	return pods[0].Name, nil
}

// podSelector is the label selector of a workload (spec.selector as a
// LabelSelector) or a Service (spec.selector as a map).
func podSelector(obj *unstructured.Unstructured) (string, error) {
	if obj.GetKind() == "Service" {
		m, _, _ := unstructured.NestedStringMap(obj.Object, "spec", "selector")
		if len(m) == 0 {
			return "", fmt.Errorf("the Service has no selector")
		}
		return metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: m}), nil
	}
	raw, found, _ := unstructured.NestedMap(obj.Object, "spec", "selector")
	if !found {
		return "", fmt.Errorf("it has no spec.selector: name a pod")
	}
	var ls metav1.LabelSelector
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return "", fmt.Errorf("spec.selector: %w", err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return "", fmt.Errorf("spec.selector: %w", err)
	}
	if sel.Empty() {
		return "", fmt.Errorf("its selector is empty: name a pod")
	}
	return sel.String(), nil
}

// podRank orders candidate pods: not terminating, Ready, Running, newest.
func podRank(p corev1.Pod) int64 {
	var r int64
	if p.DeletionTimestamp == nil {
		r += 8
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			r += 4
		}
	}
	if p.Status.Phase == corev1.PodRunning {
		r += 2
	}
	return r<<40 + p.CreationTimestamp.Unix()
}
