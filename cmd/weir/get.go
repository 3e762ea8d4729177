package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
)

func runGet(ctx context.Context, args []string) error { return getCmd(ctx, stdio(), args) }

// getOptions are `weir get`'s flags and arguments.
type getOptions struct {
	output, labelSel, fieldSel string
	all, watch, noHeaders      bool
	kind                       string
	names                      []string
}

func getCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir get TYPE[,TYPE...]|all [NAME...] [-n NS | -A] [-o wide|yaml|json|name] [-l SELECTOR] [--field-selector SELECTOR] [-w]")
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

// getter runs one `weir get`.
type getter struct {
	c        *client.Client
	io       cliIO
	o        getOptions
	res      client.Resource
	ns       string
	withKind bool // NAME column as TYPE/NAME (several types in one get)
	tp       *printers.TablePrinter
}

func (g *getter) run(ctx context.Context) error {
	objs, rv, err := g.fetch(ctx)
	if err != nil && len(objs) == 0 {
		return err
	}
	if perr := g.print(objs, rv); perr != nil {
		return perr
	}
	if err != nil || !g.o.watch {
		return err
	}
	return g.watchLoop(ctx, rv)
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

func (g *getter) print(objs []*unstructured.Unstructured, rv string) error {
	switch g.o.output {
	case "json", "yaml":
		if len(g.o.names) == 1 && len(objs) == 1 {
			return printers.PrintObject(g.io.out, g.o.output, objs[0])
		}
		return printers.PrintList(g.io.out, g.o.output, objs, rv)
	case "name":
		for _, o := range objs {
			if err := printers.PrintName(g.io.out, g.res.TypeName(), o); err != nil {
				return err
			}
		}
		return nil
	}
	if len(objs) == 0 {
		if len(g.o.names) == 0 && !g.o.watch {
			g.noResources()
		}
		return nil
	}
	return g.table().Print(objs...)
}

func (g *getter) table() *printers.TablePrinter {
	if g.tp == nil {
		g.tp = printers.NewTablePrinter(g.io.out, g.res.GroupResource(), printers.Options{
			Wide: g.o.output == "wide", AllNamespaces: g.o.all && g.res.Namespaced,
			NoHeaders: g.o.noHeaders, Now: time.Now(), KindPrefix: g.kindPrefix(),
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

func (g *getter) kindPrefix() string {
	if g.withKind {
		return g.res.TypeName()
	}
	return ""
}
