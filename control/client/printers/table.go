package printers

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Options tune table output.
type Options struct {
	Wide          bool // add the -o wide columns
	AllNamespaces bool // add a NAMESPACE column first
	NoHeaders     bool // leave out the header line
	// KindPrefix, when set, turns the NAME column into TYPE/NAME (as in
	// kubectl's `get all`), e.g. "deployment.apps".
	KindPrefix string
	Now        time.Time // the clock AGE columns are computed against
}

// table is how one resource prints: its columns and a row function.
// Wide columns follow the normal ones.
type table struct {
	headers []string
	wide    []string
	row     func(obj *unstructured.Unstructured, now time.Time) (cols, wide []string, err error)
}

// tables maps a group-qualified resource ("pods", "deployments.apps") to
// its table; anything else prints NAME and AGE.
func tables() map[string]table {
	return map[string]table{
		"pods":                            podTable,
		"services":                        serviceTable,
		"nodes":                           nodeTable,
		"namespaces":                      namespaceTable,
		"endpoints":                       endpointsTable,
		"endpointslices.discovery.k8s.io": endpointSliceTable,
		"configmaps":                      configMapTable,
		"secrets":                         secretTable,
		"serviceaccounts":                 serviceAccountTable,
		"events":                          eventTable,
		"deployments.apps":                deploymentTable,
		"replicasets.apps":                replicaSetTable,
		"jobs.batch":                      jobTable,
	}
}

var genericTable = table{
	headers: []string{"NAME", "AGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		return []string{obj.GetName(), age(obj.GetCreationTimestamp(), now)}, nil, nil
	},
}

// TablePrinter prints rows of one resource, aligned in columns. Print may
// be called many times (a watch prints row by row); the header comes once,
// and columns never get narrower, so later rows line up with earlier ones
// unless they hold wider cells.
type TablePrinter struct {
	w       io.Writer
	t       table
	opts    Options
	started bool
	widths  []int
}

// Column layout, as kubectl's: cells padded to the widest cell plus
// colPadding, and to at least colMinWidth.
const (
	colPadding  = 3
	colMinWidth = 10
)

// NewTablePrinter prints objects of groupResource ("pods",
// "deployments.apps", ...) to w.
func NewTablePrinter(w io.Writer, groupResource string, opts Options) *TablePrinter {
	t, ok := tables()[groupResource]
	if !ok {
		t = genericTable
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	return &TablePrinter{w: w, t: t, opts: opts}
}

// Print writes one row per object (after the header, the first time).
func (p *TablePrinter) Print(objs ...*unstructured.Unstructured) error {
	var rows [][]string
	if !p.started && !p.opts.NoHeaders {
		rows = append(rows, p.row(p.t.headers, p.t.wide, "NAMESPACE"))
	}
	p.started = true
	for _, obj := range objs {
		cols, wide, err := p.t.row(obj, p.opts.Now)
		if err != nil {
			return fmt.Errorf("print %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if p.opts.KindPrefix != "" && p.t.headers[0] == "NAME" {
			cols[0] = p.opts.KindPrefix + "/" + cols[0]
		}
		rows = append(rows, p.row(cols, wide, obj.GetNamespace()))
	}
	for _, r := range rows {
		for i, c := range r {
			if i == len(p.widths) {
				p.widths = append(p.widths, colMinWidth)
			}
			p.widths[i] = max(p.widths[i], utf8.RuneCountInString(c)+colPadding)
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", p.widths[i]-utf8.RuneCountInString(c)))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

func (p *TablePrinter) row(cols, wide []string, namespace string) []string {
	var all []string
	if p.opts.AllNamespaces {
		all = append(all, namespace)
	}
	all = append(all, cols...)
	if p.opts.Wide {
		all = append(all, wide...)
	}
	return all
}

// typed converts obj into a k8s.io/api type.
func typed[T any](obj *unstructured.Unstructured) (*T, error) {
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// age is kubectl's AGE: a short human duration, "<unknown>" when unset.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func joinOrNone(items []string) string { return orNone(strings.Join(items, ",")) }

// oneLine keeps a free-text cell on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
