package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// lastApplied is hidden from describe's annotations, as kubectl does.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// body writes the kind-specific part of describe.
type body func(d *describer, obj *unstructured.Unstructured, now time.Time) error

// bodies maps a kind to its describe body; other kinds print their
// top-level fields as YAML.
func bodies() map[string]body {
	return map[string]body{
		"Pod":        describePod,
		"Service":    describeService,
		"Node":       describeNode,
		"Deployment": describeDeployment,
		"ReplicaSet": describeReplicaSet,
		"Job":        describeJob,
		"ConfigMap":  describeConfigMap,
		"Secret":     describeSecret,
	}
}

// Describe writes a readable multi-line view of obj, then the events given
// (already filtered to obj and sorted; see client.EventsFor).
func Describe(w io.Writer, obj *unstructured.Unstructured, events []*corev1.Event, now time.Time) error {
	d := &describer{w: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
	describeMeta(d, obj)
	b, ok := bodies()[obj.GetKind()]
	if !ok {
		b = describeGeneric
	}
	if err := b(d, obj, now); err != nil {
		return fmt.Errorf("describe %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	if err := describeEvents(d, events, now); err != nil {
		return err
	}
	return d.w.Flush()
}

func describeMeta(d *describer, obj *unstructured.Unstructured) {
	d.line(0, "Name", obj.GetName())
	if obj.GetNamespace() != "" {
		d.line(0, "Namespace", obj.GetNamespace())
	}
	d.multi(0, "Labels", keyValues(obj.GetLabels(), "="))
	ann := obj.GetAnnotations()
	delete(ann, lastApplied)
	d.multi(0, "Annotations", keyValues(ann, ": "))
	d.line(0, "CreationTimestamp", timestamp(obj.GetCreationTimestamp()))
	for _, o := range obj.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			d.line(0, "Controlled By", o.Kind+"/"+o.Name)
		}
	}
}

// describeGeneric prints every top-level field but apiVersion, kind and
// metadata as indented YAML.
func describeGeneric(d *describer, obj *unstructured.Unstructured, _ time.Time) error {
	keys := make([]string, 0, len(obj.Object))
	for k := range obj.Object {
		if k != "apiVersion" && k != "kind" && k != "metadata" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		data, err := yaml.Marshal(obj.Object[k])
		if err != nil {
			return fmt.Errorf("encode %s: %w", k, err)
		}
		title := strings.ToUpper(k[:1]) + k[1:]
		switch obj.Object[k].(type) {
		case map[string]any, []any:
		default:
			d.line(0, title, strings.TrimRight(string(data), "\n"))
			continue
		}
		d.line(0, title, "")
		d.text(1, string(data))
	}
	return nil
}

// describer writes aligned "Key:  value" lines and tables, indented two
// spaces per level.
type describer struct {
	w *tabwriter.Writer
}

func indent(level int) string { return strings.Repeat("  ", level) }

func (d *describer) line(level int, key, value string) {
	if value == "" {
		fmt.Fprintf(d.w, "%s%s:\n", indent(level), key)
		return
	}
	fmt.Fprintf(d.w, "%s%s:\t%s\n", indent(level), key, value)
}

// multi writes a key with one value per line, or <none>.
func (d *describer) multi(level int, key string, values []string) {
	if len(values) == 0 {
		d.line(level, key, "<none>")
		return
	}
	d.line(level, key, values[0])
	for _, v := range values[1:] {
		fmt.Fprintf(d.w, "%s\t%s\n", indent(level), v)
	}
}

func (d *describer) row(level int, cells ...string) {
	fmt.Fprintf(d.w, "%s%s\n", indent(level), strings.Join(cells, "\t"))
}

// text writes free text, each line indented (tabs would disturb the
// alignment, so they are expanded).
func (d *describer) text(level int, s string) {
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(d.w, "%s%s\n", indent(level), strings.ReplaceAll(l, "\t", "    "))
	}
}

func keyValues(m map[string]string, sep string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+sep+v)
	}
	sort.Strings(out)
	return out
}

// timestamp is kubectl's describe time format.
func timestamp(t metav1.Time) string {
	if t.IsZero() {
		return "<unset>"
	}
	return t.UTC().Format(time.RFC1123Z)
}
