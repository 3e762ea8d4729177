package printers

import (
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func describeDeployment(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	dep, err := typed[appsv1.Deployment](obj)
	if err != nil {
		return err
	}
	st := dep.Status
	d.line(0, "Selector", selectorString(dep.Spec.Selector))
	d.line(0, "Replicas", fmt.Sprintf("%d desired | %d updated | %d total | %d available | %d unavailable",
		replicas(dep.Spec.Replicas), st.UpdatedReplicas, st.Replicas, st.AvailableReplicas, st.UnavailableReplicas))
	strategy := dep.Spec.Strategy.Type
	if strategy == "" {
		strategy = appsv1.RollingUpdateDeploymentStrategyType
	}
	d.line(0, "StrategyType", string(strategy))
	describeTemplate(d, dep.Spec.Template)
	describeConditions(d, len(st.Conditions), func(i int) (string, string, string) {
		c := st.Conditions[i]
		return string(c.Type), string(c.Status), c.Reason
	})
	return nil
}

func describeReplicaSet(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	rs, err := typed[appsv1.ReplicaSet](obj)
	if err != nil {
		return err
	}
	d.line(0, "Selector", selectorString(rs.Spec.Selector))
	d.line(0, "Replicas", fmt.Sprintf("%d current / %d desired", rs.Status.Replicas, replicas(rs.Spec.Replicas)))
	d.line(0, "Pods Status", fmt.Sprintf("%d Ready / %d Available", rs.Status.ReadyReplicas, rs.Status.AvailableReplicas))
	describeTemplate(d, rs.Spec.Template)
	return nil
}

func describeJob(d *describer, obj *unstructured.Unstructured, now time.Time) error {
	j, err := typed[batchv1.Job](obj)
	if err != nil {
		return err
	}
	d.line(0, "Selector", selectorString(j.Spec.Selector))
	d.line(0, "Parallelism", optInt(j.Spec.Parallelism, "1"))
	d.line(0, "Completions", optInt(j.Spec.Completions, "1"))
	if j.Status.StartTime != nil {
		d.line(0, "Start Time", timestamp(*j.Status.StartTime))
		d.line(0, "Duration", jobDuration(j, now))
	}
	if j.Status.CompletionTime != nil {
		d.line(0, "Completed At", timestamp(*j.Status.CompletionTime))
	}
	d.line(0, "Status", JobStatus(j))
	d.line(0, "Pods Statuses", fmt.Sprintf("%d Active / %d Succeeded / %d Failed", j.Status.Active, j.Status.Succeeded, j.Status.Failed))
	describeTemplate(d, j.Spec.Template)
	return nil
}

func describeTemplate(d *describer, t corev1.PodTemplateSpec) {
	d.line(0, "Pod Template", "")
	d.multi(1, "Labels", keyValues(t.Labels, "="))
	d.line(1, "Containers", "")
	for _, c := range t.Spec.Containers {
		d.line(2, c.Name, "")
		d.line(3, "Image", c.Image)
		var ports []string
		for _, p := range c.Ports {
			ports = append(ports, fmt.Sprintf("%d/%s", p.ContainerPort, orDefault(string(p.Protocol), "TCP")))
		}
		d.line(3, "Port", joinOrNone(ports))
	}
}

func describeConditions(d *describer, n int, get func(i int) (typ, status, reason string)) {
	if n == 0 {
		return
	}
	d.line(0, "Conditions", "")
	d.row(1, "Type", "Status", "Reason")
	d.row(1, "----", "------", "------")
	for i := range n {
		t, s, r := get(i)
		d.row(1, t, s, r)
	}
}

func selectorString(sel *metav1.LabelSelector) string {
	if sel == nil {
		return "<none>"
	}
	return orNone(metav1.FormatLabelSelector(sel))
}

func optInt(p *int32, def string) string {
	if p == nil {
		return def
	}
	return fmt.Sprint(*p)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func describeConfigMap(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	cm, err := typed[corev1.ConfigMap](obj)
	if err != nil {
		return err
	}
	d.text(0, "Data")
	d.text(0, "====")
	for _, k := range sortedKeys(cm.Data) {
		d.line(0, k, "")
		d.text(0, "----")
		d.text(0, cm.Data[k])
		d.text(0, "")
	}
	if len(cm.BinaryData) > 0 {
		d.line(0, "BinaryData", "")
		for _, k := range sortedKeys(cm.BinaryData) {
			d.line(0, k, fmt.Sprintf("%d bytes", len(cm.BinaryData[k])))
		}
	}
	return nil
}

// describeSecret shows sizes, never values.
func describeSecret(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	s, err := typed[corev1.Secret](obj)
	if err != nil {
		return err
	}
	d.line(0, "Type", orDefault(string(s.Type), string(corev1.SecretTypeOpaque)))
	d.line(0, "Data", "")
	for _, k := range sortedKeys(s.Data) {
		d.line(1, k, fmt.Sprintf("%d bytes", len(s.Data[k])))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
