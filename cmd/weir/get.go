package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
)

func runGet(ctx context.Context, args []string) error { return getCmd(ctx, stdio(), args) }

// getOptions are `weir get`'s flags and arguments.
type getOptions struct {
	output, labelSel, fieldSel string
	all, watch, noHeaders      bool
	showManagedFields          bool
	chunkSize                  int64
	kind                       string
	names                      []string
}

func getCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir get TYPE[,TYPE...]|all [NAME...] [-n NS | -A] [-o wide|yaml|json|name] [-l SELECTOR] [--field-selector SELECTOR] [-w] [--no-headers] [--show-managed-fields]")
		fmt.Fprintln(io.errOut, "\nTables are the server's (kube-apiserver's columns; -o wide adds the wide ones).")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	var o getOptions
	fs.StringVar(&o.output, "output", "", "output format: wide, yaml, json or name")
	fs.StringVar(&o.output, "o", "", "shorthand for --output")
	fs.StringVar(&o.labelSel, "selector", "", "label selector, e.g. app=web,tier!=db")
	fs.StringVar(&o.labelSel, "l", "", "shorthand for --selector")
	fs.StringVar(&o.fieldSel, "field-selector", "", "field selector, e.g. spec.nodeName=n1")
	fs.BoolVar(&o.all, "all-namespaces", false, "list across all namespaces")
	fs.BoolVar(&o.all, "A", false, "shorthand for --all-namespaces")
	fs.BoolVar(&o.watch, "watch", false, "after listing, watch for changes")
	fs.BoolVar(&o.watch, "w", false, "shorthand for --watch")
	fs.BoolVar(&o.noHeaders, "no-headers", false, "leave out table headers")
	fs.Int64Var(&o.chunkSize, "chunk-size", 500, "list in pages of this many objects (0: one answer)")
	fs.BoolVar(&o.showManagedFields, "show-managed-fields", false, "keep metadata.managedFields in -o yaml/json")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if o.kind, o.names, err = kindAndNames(pos); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	kinds := splitKinds(o.kind)
	if len(kinds) > 1 {
		return getMany(ctx, c, io, o, kinds, nsOpts)
	}
	res, err := c.ResolveResource(ctx, o.kind)
	if err != nil {
		return err
	}
	g := &getter{c: c, io: io, o: o, res: res, ns: targetNamespace(res, nsOpts, o.all)}
	return g.run(ctx)
}

func (o getOptions) validate() error {
	switch o.output {
	case "", "wide", "yaml", "json", "name":
	default:
		return fmt.Errorf("unknown output format %q: use wide, yaml, json or name", o.output)
	}
	if _, err := labels.Parse(o.labelSel); err != nil {
		return fmt.Errorf("invalid label selector %q: %w", o.labelSel, err)
	}
	if o.chunkSize < 0 {
		return fmt.Errorf("invalid --chunk-size %d: want 0 or more", o.chunkSize)
	}
	if _, err := fields.ParseSelector(o.fieldSel); err != nil {
		return fmt.Errorf("invalid field selector %q: %w", o.fieldSel, err)
	}
	if len(o.names) > 0 && (o.labelSel != "" || o.all) {
		return errors.New("name objects or select them with -l/-A, not both")
	}
	if o.watch && len(o.names) > 1 {
		return errors.New("watch one object by name, or a whole type")
	}
	return nil
}

// targetNamespace is "" for cluster-scoped resources and -A.
func targetNamespace(res client.Resource, nsOpts client.NamespaceOptions, all bool) string {
	if !res.Namespaced || all {
		return ""
	}
	return nsOpts.Namespace
}

// getter runs one `weir get`. Tables (the default and -o wide) are the
// server's: it asks for metav1.Table as kubectl does and prints the
// columns kube-apiserver defines; -o yaml/json/name print the objects.
type getter struct {
	c        *client.Client
	io       cliIO
	o        getOptions
	res      client.Resource
	ns       string
	withKind bool // NAME column as TYPE/NAME (several types in one get)
	tp       *printers.TablePrinter
	rows     map[string]metav1.TableRow // printed rows by NAMESPACE/NAME, for watches
}

// tables says whether the output is a table (not yaml, json or name).
func (g *getter) tables() bool { return g.o.output == "" || g.o.output == "wide" }

func (g *getter) run(ctx context.Context) error {
	var rv string
	var n int
	var err error
	if g.tables() {
		var ts []*metav1.Table
		ts, rv, err = g.fetchTables(ctx)
		n, err = g.printTables(ts, err)
	} else {
		var objs []*unstructured.Unstructured
		objs, rv, err = g.fetch(ctx)
		n = len(objs)
		if err == nil || len(objs) > 0 {
			if perr := g.print(objs, rv); perr != nil {
				return perr
			}
		}
	}
	if n == 0 && g.tables() && len(g.o.names) == 0 && !g.o.watch && err == nil {
		g.noResources() // as kubectl, for tables only
	}
	if err != nil || !g.o.watch {
		return err
	}
	return g.watchLoop(ctx, rv)
}

// printTables prints what fetchTables read, and returns the row count and
// the fetch error.
func (g *getter) printTables(ts []*metav1.Table, err error) (int, error) {
	n := 0
	for _, t := range ts {
		if perr := g.printTable(t); perr != nil {
			return n, perr
		}
		n += len(t.Rows)
	}
	return n, err
}

// watchOptions select what -w follows: the named object or the selection.
func (g *getter) watchOptions() client.ListOptions {
	opts := client.ListOptions{LabelSelector: g.o.labelSel, FieldSelector: g.o.fieldSel}
	if len(g.o.names) == 1 {
		opts.FieldSelector = "metadata.name=" + g.o.names[0]
	}
	return opts
}

func (g *getter) list(ctx context.Context, opts client.ListOptions) ([]*unstructured.Unstructured, string, error) {
	list, err := g.c.List(ctx, g.res.GVR(), g.ns, opts)
	if err != nil {
		return nil, "", err
	}
	objs := make([]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		objs[i] = &list.Items[i]
	}
	return objs, list.GetResourceVersion(), nil
}

// fetch reads the named objects, or lists the selection. With names, it
// reads every one and reports the misses together.
func (g *getter) fetch(ctx context.Context) ([]*unstructured.Unstructured, string, error) {
	if len(g.o.names) == 0 || g.o.watch {
		// A watched object is listed by name: a list's resourceVersion is
		// current, an object's may be older than the watch history. A
		// missing object is waited for.
		return g.list(ctx, g.watchOptions())
	}
	var objs []*unstructured.Unstructured
	var errs []error
	rv := ""
	for _, n := range g.o.names {
		obj, err := g.c.Get(ctx, g.res.GVR(), g.ns, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, obj)
		rv = obj.GetResourceVersion()
	}
	return objs, rv, errors.Join(errs...)
}

// fetchTables is fetch for tables: the server's Table of the selection,
// or of each named object (misses reported together, after the others).
func (g *getter) fetchTables(ctx context.Context) ([]*metav1.Table, string, error) {
	if len(g.o.names) == 0 || g.o.watch {
		return g.tablePages(ctx)
	}
	var ts []*metav1.Table
	var errs []error
	for _, n := range g.o.names {
		t, err := g.c.Table(ctx, g.res.GVR(), g.ns, n, client.ListOptions{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ts = append(ts, t)
	}
	return ts, "", errors.Join(errs...)
}

// tablePages lists the selection's Table in pages of --chunk-size rows
// (the server keeps every page at the first page's revision) and returns
// the pages and that revision.
func (g *getter) tablePages(ctx context.Context) ([]*metav1.Table, string, error) {
	opts := g.watchOptions()
	opts.Limit = g.o.chunkSize
	var pages []*metav1.Table
	for {
		t, err := g.c.Table(ctx, g.res.GVR(), g.ns, "", opts)
		if err != nil {
			return pages, "", err
		}
		pages = append(pages, t)
		if t.Continue == "" {
			return pages, t.ResourceVersion, nil
		}
		opts.Continue = t.Continue
	}
}

// show is the object as -o yaml/json print it.
func (g *getter) show(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if g.o.showManagedFields {
		return obj
	}
	return printers.WithoutManagedFields(obj)
}

// print writes objects as yaml, json or names.
func (g *getter) print(objs []*unstructured.Unstructured, rv string) error {
	switch g.o.output {
	case "json", "yaml":
		if len(g.o.names) == 1 && len(objs) == 1 {
			return printers.PrintObject(g.io.out, g.o.output, g.show(objs[0]))
		}
		shown := make([]*unstructured.Unstructured, len(objs))
		for i, o := range objs {
			shown[i] = g.show(o)
		}
		return printers.PrintList(g.io.out, g.o.output, shown, rv)
	}
	for _, o := range objs {
		if err := printers.PrintName(g.io.out, g.res.TypeName(), o); err != nil {
			return err
		}
	}
	return nil
}

func (g *getter) table() *printers.TablePrinter {
	if g.tp == nil {
		g.tp = printers.NewTablePrinter(g.io.out, printers.TableOptions{
			Wide: g.o.output == "wide", WithNamespace: g.o.all && g.res.Namespaced,
			NoHeaders: g.o.noHeaders, Kind: g.kind(),
		})
	}
	return g.tp
}

func (g *getter) noResources() {
	if g.ns != "" {
		fmt.Fprintf(g.io.errOut, "No resources found in %s namespace.\n", g.ns)
	} else {
		fmt.Fprintln(g.io.errOut, "No resources found")
	}
}

// kind names the rows TYPE/NAME when several types print together.
func (g *getter) kind() schema.GroupKind {
	if g.withKind {
		return schema.GroupKind{Group: g.res.Group, Kind: g.res.Kind}
	}
	return schema.GroupKind{}
}
