package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/client"
)

func runDelete(ctx context.Context, args []string) error { return deleteCmd(ctx, stdio(), args) }

// deleteTarget is one object to delete.
type deleteTarget struct {
	res       client.Resource
	namespace string
	name      string
}

// deleteCmd deletes the objects of manifests (-f, last object first) or
// named ones (TYPE NAME... / TYPE/NAME / TYPE -l SELECTOR), printing
// `TYPE "NAME" deleted`. --cascade=background|foreground|orphan is the
// propagation policy for the objects' dependents, as in kubectl.
func deleteCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir delete -f FILE|DIR|- | TYPE NAME... | TYPE/NAME... | TYPE -l SELECTOR [-n NS] [--ignore-not-found] [--cascade=background|foreground|orphan]")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	var files stringList
	var selector string
	var ignoreNotFound bool
	fs.Var(&files, "filename", "manifest whose objects to delete; repeatable")
	fs.Var(&files, "f", "shorthand for --filename")
	fs.StringVar(&selector, "selector", "", "delete every object of TYPE matching this label selector")
	fs.StringVar(&selector, "l", "", "shorthand for --selector")
	fs.BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat objects that do not exist as deleted")
	cascade := cascadeFlag{policy: metav1.DeletePropagationBackground}
	fs.Var(&cascade, "cascade", "what happens to dependents: background (delete them after the object), foreground (before it; the object stays until then) or orphan (keep them); --cascade=false is orphan")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if (len(files) > 0) == (len(pos) > 0) {
		return errors.New("name what to delete: -f FILE, or TYPE NAME..., not both")
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var targets []deleteTarget
	if len(files) > 0 {
		targets, err = manifestTargets(ctx, c, io, files, nsOpts)
	} else {
		targets, err = namedTargets(ctx, c, pos, selector, nsOpts)
	}
	if err != nil {
		return err
	}
	return deleteAll(ctx, c, io, targets, client.DeleteOptions{PropagationPolicy: cascade.policy}, ignoreNotFound)
}

func manifestTargets(ctx context.Context, c *client.Client, io cliIO, files []string, nsOpts client.NamespaceOptions) ([]deleteTarget, error) {
	ms, err := client.ReadManifests(files, io.in)
	if err != nil {
		return nil, err
	}
	// Reverse order: objects declared after their namespace (or whatever
	// they depend on) go first.
	out := make([]deleteTarget, 0, len(ms))
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		t, err := c.TargetOf(ctx, m.Object, nsOpts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Source, err)
		}
		out = append(out, deleteTarget{res: t.Resource, namespace: t.Namespace, name: t.Name})
	}
	return out, nil
}

func namedTargets(ctx context.Context, c *client.Client, args []string, selector string, nsOpts client.NamespaceOptions) ([]deleteTarget, error) {
	kind, names, err := kindAndNames(args)
	if err != nil {
		return nil, err
	}
	if (len(names) > 0) == (selector != "") {
		return nil, errors.New("name the objects to delete, or select them with -l, not both or neither")
	}
	res, err := c.ResolveResource(ctx, kind)
	if err != nil {
		return nil, err
	}
	ns := targetNamespace(res, nsOpts, false)
	if selector != "" {
		list, err := c.List(ctx, res.GVR(), ns, client.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, err
		}
		for _, it := range list.Items {
			names = append(names, it.GetName())
		}
	}
	out := make([]deleteTarget, 0, len(names))
	for _, n := range names {
		out = append(out, deleteTarget{res: res, namespace: ns, name: n})
	}
	return out, nil
}

func deleteAll(ctx context.Context, c *client.Client, io cliIO, targets []deleteTarget, opts client.DeleteOptions, ignoreNotFound bool) error {
	failed := 0
	for _, t := range targets {
		err := c.DeleteWith(ctx, t.res.GVR(), t.namespace, t.name, opts)
		switch {
		case err == nil:
			fmt.Fprintf(io.out, "%s %q deleted\n", t.res.TypeName(), t.name)
		case ignoreNotFound && apierrors.IsNotFound(err):
		default:
			failed++
			fmt.Fprintln(io.errOut, client.FormatError(err))
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d deletions failed (see above)", failed, len(targets))
	}
	return nil
}

// cascadeFlag is --cascade: a value is optional (--cascade alone is
// background, as in kubectl), so it is given as --cascade=MODE.
type cascadeFlag struct{ policy metav1.DeletionPropagation }

func (f *cascadeFlag) String() string {
	if f == nil {
		return ""
	}
	return strings.ToLower(string(f.policy))
}

func (f *cascadeFlag) Set(v string) error {
	p, err := client.ParseCascade(v)
	if err != nil {
		return err
	}
	f.policy = p
	return nil
}

// IsBoolFlag lets --cascade stand alone (Set("true"): background).
func (f *cascadeFlag) IsBoolFlag() bool { return true }
