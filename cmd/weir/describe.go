package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
)

func runDescribe(ctx context.Context, args []string) error { return describeCmd(ctx, stdio(), args) }

// describeCmd prints a readable view of objects with their recent events:
// the named ones, or every one of the type (in the namespace, or matching
// -l).
func describeCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("describe", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir describe TYPE [NAME...] [-n NS] [-l SELECTOR]")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	var selector string
	fs.StringVar(&selector, "selector", "", "describe the objects matching this label selector")
	fs.StringVar(&selector, "l", "", "shorthand for --selector")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	kind, names, err := kindAndNames(pos)
	if err != nil {
		return err
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.ResolveResource(ctx, kind)
	if err != nil {
		return err
	}
	objs, err := describeTargets(ctx, c, res, targetNamespace(res, nsOpts, false), names, selector)
	for i, obj := range objs {
		if i > 0 {
			fmt.Fprintln(io.out)
		}
		events, eerr := c.EventsFor(ctx, obj)
		if eerr != nil {
			return eerr
		}
		if perr := printers.Describe(io.out, obj, events, time.Now()); perr != nil {
			return perr
		}
	}
	if err == nil && len(objs) == 0 {
		fmt.Fprintf(io.errOut, "No resources found.\n")
	}
	return err
}

// describeTargets reads the named objects (reporting misses after the
// others), or lists the type.
func describeTargets(ctx context.Context, c *client.Client, res client.Resource, ns string, names []string, selector string) ([]*unstructured.Unstructured, error) {
	if len(names) == 0 {
		list, err := c.List(ctx, res.GVR(), ns, client.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, err
		}
		out := make([]*unstructured.Unstructured, len(list.Items))
		for i := range list.Items {
			out[i] = &list.Items[i]
		}
		return out, nil
	}
	if selector != "" {
		return nil, errors.New("name objects or select them with -l, not both")
	}
	var out []*unstructured.Unstructured
	var errs []error
	for _, n := range names {
		obj, err := c.Get(ctx, res.GVR(), ns, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, obj)
	}
	return out, errors.Join(errs...)
}
