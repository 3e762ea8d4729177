package printers

import (
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	cliprinters "k8s.io/cli-runtime/pkg/printers"
)

// TableOptions tune how a server Table prints, as kubectl's flags do.
type TableOptions struct {
	Wide          bool // -o wide: the columns of priority > 0 too
	WithNamespace bool // -A: a NAMESPACE column first, from each row's object
	NoHeaders     bool // --no-headers
	// Kind, when set, turns the name column into TYPE/NAME (as in
	// kubectl's `get all`), e.g. deployment.apps/web.
	Kind schema.GroupKind
}

// TablePrinter prints the server's Tables (metav1.Table, as kube-apiserver
// returns for Accept: application/json;as=Table;v=v1;g=meta.k8s.io) with
// kubectl's own table printer (k8s.io/cli-runtime): the columns the
// server defines, its cells as it computed them. Print may be called many
// times (a watch sends one Table per event, with the column definitions
// in the first only); the header comes once, over the first rows, and
// later rows keep the columns' widths.
type TablePrinter struct {
	w io.Writer
	p cliprinters.ResourcePrinter
}

// NewTablePrinter prints Tables to w.
func NewTablePrinter(w io.Writer, opts TableOptions) *TablePrinter {
	return &TablePrinter{w: cliprinters.GetNewTabWriter(w), p: cliprinters.NewTablePrinter(cliprinters.PrintOptions{
		Wide: opts.Wide, WithNamespace: opts.WithNamespace, NoHeaders: opts.NoHeaders,
		WithKind: !opts.Kind.Empty(), Kind: opts.Kind,
	})}
}

// Print writes the table's rows (after the header, the first time rows
// come). A Table without rows prints nothing, not even the header. The
// rows' objects are decoded first (the namespace column reads them).
func (p *TablePrinter) Print(t *metav1.Table) error {
	t = t.DeepCopy()
	for i := range t.Rows {
		if t.Rows[i].Object.Object != nil || len(t.Rows[i].Object.Raw) == 0 {
			continue
		}
		pom := &metav1.PartialObjectMetadata{}
		if err := json.Unmarshal(t.Rows[i].Object.Raw, pom); err != nil {
			return fmt.Errorf("decode table row object: %w", err)
		}
		t.Rows[i].Object.Object = pom
	}
	if err := p.p.PrintObj(t, p.w); err != nil {
		return err
	}
	if f, ok := p.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// RowMeta is the metadata (name, namespace, resourceVersion) of a row's
// object, as the server included it (includeObject=Metadata, the
// default): decoded (server side) or raw JSON (as a client receives it).
func RowMeta(r metav1.TableRow) (metav1.ObjectMeta, error) {
	ext := r.Object
	if ext.Object != nil {
		m, err := meta.Accessor(ext.Object)
		if err != nil {
			return metav1.ObjectMeta{}, fmt.Errorf("table row object: %w", err)
		}
		return metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), ResourceVersion: m.GetResourceVersion()}, nil
	}
	if len(ext.Raw) == 0 {
		return metav1.ObjectMeta{}, fmt.Errorf("the server sent a table row without its object")
	}
	var pom metav1.PartialObjectMetadata
	if err := json.Unmarshal(ext.Raw, &pom); err != nil {
		return metav1.ObjectMeta{}, fmt.Errorf("decode table row object: %w", err)
	}
	return pom.ObjectMeta, nil
}
