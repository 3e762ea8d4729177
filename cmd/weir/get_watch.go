package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
)

// watchLoop prints changes from revision rv until ctx ends. A stream the
// server closes is reopened from the last revision seen; a revision too old
// to resume (410 Gone) means list again and continue from the new list.
func (g *getter) watchLoop(ctx context.Context, rv string) error {
	opts := g.watchOptions()
	for ctx.Err() == nil {
		opts.ResourceVersion = rv
		next, err := g.watchOnce(ctx, opts)
		switch {
		case ctx.Err() != nil:
			return nil
		case apierrors.IsGone(err) || apierrors.IsResourceExpired(err):
			objs, lrv, lerr := g.list(ctx, g.watchOptions())
			if lerr != nil {
				return lerr
			}
			if err := g.print(objs, lrv); err != nil {
				return err
			}
			rv = lrv
		case err != nil:
			return err
		default:
			rv = next
		}
	}
	return nil
}

// watchOnce follows one watch stream and returns the last revision seen
// when the server ends it.
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

func (g *getter) printEvent(obj *unstructured.Unstructured) error {
	switch g.o.output {
	case "json":
		return printers.PrintObject(g.io.out, "json", obj)
	case "yaml":
		fmt.Fprintln(g.io.out, "---")
		return printers.PrintObject(g.io.out, "yaml", obj)
	case "name":
		return printers.PrintName(g.io.out, g.res.TypeName(), obj)
	}
	return g.table().Print(obj)
}
