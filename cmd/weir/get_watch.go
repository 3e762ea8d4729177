package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
)

// watchLoop prints changes from revision rv until ctx ends. A stream the
// server closes is reopened from the last revision seen; a revision too old
// to resume (410 Gone) means list again and continue from the new list.
// Tables watch the server's Table rows, as kubectl's get -w does.
func (g *getter) watchLoop(ctx context.Context, rv string) error {
	opts := g.watchOptions()
	for ctx.Err() == nil {
		opts.ResourceVersion = rv
		var next string
		var err error
		if g.tables() {
			next, err = g.watchTablesOnce(ctx, opts)
		} else {
			next, err = g.watchOnce(ctx, opts)
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case apierrors.IsGone(err) || apierrors.IsResourceExpired(err):
			if rv, err = g.relist(ctx); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			rv = next
		}
	}
	return nil
}

// relist prints the current state and returns its revision.
func (g *getter) relist(ctx context.Context) (string, error) {
	if g.tables() {
		ts, rv, err := g.tablePages(ctx)
		if err != nil {
			return "", err
		}
		for _, t := range ts {
			if err := g.printTable(t); err != nil {
				return "", err
			}
		}
		return rv, nil
	}
	objs, rv, err := g.list(ctx, g.watchOptions())
	if err != nil {
		return "", err
	}
	return rv, g.print(objs, rv)
}

// watchOnce follows one watch stream of objects and returns the last
// revision seen when the server ends it.
func (g *getter) watchOnce(ctx context.Context, opts client.ListOptions) (string, error) {
	w, err := g.c.Watch(ctx, g.res.GVR(), g.ns, opts)
	if err != nil {
		return opts.ResourceVersion, err
	}
	defer w.Close()
	rv := opts.ResourceVersion
	for {
		ev, err := w.Next()
		if errors.Is(err, io.EOF) {
			return rv, nil
		}
		if err != nil {
			return rv, err
		}
		rv = ev.Object.GetResourceVersion()
		if ev.Type == client.Bookmark {
			continue
		}
		if err := g.printEvent(ev.Object); err != nil {
			return rv, err
		}
	}
}

// watchTablesOnce is watchOnce for Table rows: each event's row prints
// under the columns of the first Table. When the server sends objects
// rather than Table rows in the watch, the row of an added or modified
// object is the server's Table of it, read by name, and a deleted object
// prints the row last printed for it.
func (g *getter) watchTablesOnce(ctx context.Context, opts client.ListOptions) (string, error) {
	w, err := g.c.WatchTable(ctx, g.res.GVR(), g.ns, opts)
	if err != nil {
		return opts.ResourceVersion, err
	}
	defer w.Close()
	rv := opts.ResourceVersion
	for {
		ev, err := w.Next()
		if errors.Is(err, io.EOF) {
			return rv, nil
		}
		if err != nil {
			return rv, err
		}
		if ev.Object != nil {
			rv = ev.Object.GetResourceVersion()
			if ev.Type == client.Bookmark {
				continue
			}
			if err := g.printObjectRow(ctx, ev.Type, ev.Object); err != nil {
				return rv, err
			}
			continue
		}
		if next := eventRevision(ev); next != "" {
			rv = next
		}
		if err := g.printTable(ev.Table); err != nil {
			return rv, err
		}
	}
}

// printTable prints t and remembers its rows by object.
func (g *getter) printTable(t *metav1.Table) error {
	if g.rows == nil {
		g.rows = map[string]metav1.TableRow{}
	}
	for _, r := range t.Rows {
		if m, err := printers.RowMeta(r); err == nil {
			g.rows[m.Namespace+"/"+m.Name] = r
		}
	}
	return g.table().Print(t)
}

// printObjectRow prints the row of an object a watch sent.
func (g *getter) printObjectRow(ctx context.Context, typ string, obj *unstructured.Unstructured) error {
	key := obj.GetNamespace() + "/" + obj.GetName()
	if typ != client.Deleted {
		t, err := g.c.Table(ctx, g.res.GVR(), obj.GetNamespace(), obj.GetName(), client.ListOptions{})
		if err == nil {
			return g.printTable(t)
		}
		if !apierrors.IsNotFound(err) {
			return err
		}
	}
	if r, ok := g.rows[key]; ok {
		return g.table().Print(&metav1.Table{Rows: []metav1.TableRow{r}})
	}
	return nil
}

// eventRevision is the revision a Table event carries: the Table's, else
// its row object's.
func eventRevision(ev client.TableEvent) string {
	if ev.Table.ResourceVersion != "" {
		return ev.Table.ResourceVersion
	}
	for _, r := range ev.Table.Rows {
		if m, err := printers.RowMeta(r); err == nil && m.ResourceVersion != "" {
			return m.ResourceVersion
		}
	}
	return ""
}

func (g *getter) printEvent(obj *unstructured.Unstructured) error {
	switch g.o.output {
	case "json":
		return printers.PrintObject(g.io.out, "json", g.show(obj))
	case "yaml":
		fmt.Fprintln(g.io.out, "---")
		return printers.PrintObject(g.io.out, "yaml", g.show(obj))
	}
	return printers.PrintName(g.io.out, g.res.TypeName(), obj)
}
