package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/weirnet/weir/control/client"
)

func runApply(ctx context.Context, args []string) error { return applyCmd(ctx, stdio(), args) }

// applyCmd server-side applies every object of the manifests (field
// manager "weir"), in order, printing "TYPE/NAME
// created|configured|unchanged"; a failing object is reported and the
// rest still applied.
func applyCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir apply -f FILE|DIR|- [-f ...] [-n NS] [--force-conflicts]\n\nServer-side apply as field manager \"weir\": fields weir applied before and a manifest no longer has are removed; fields other managers own are a conflict unless --force-conflicts.")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	var files stringList
	fs.Var(&files, "filename", "manifest file, directory (recursive .yaml/.yml/.json) or - for stdin; repeatable")
	fs.Var(&files, "f", "shorthand for --filename")
	var opts client.ApplyOptions
	fs.BoolVar(&opts.ForceConflicts, "force-conflicts", false, "take over fields another field manager owns instead of failing")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected arguments %q: pass manifests with -f", pos)
	}
	manifests, err := client.ReadManifests(files, io.in)
	if err != nil {
		return err
	}
	if len(manifests) == 0 {
		return errors.New("no objects found in the manifests: nothing to apply")
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	failed := 0
	for _, m := range manifests {
		res, err := c.ApplyWith(ctx, m.Object, nsOpts, opts)
		if err != nil {
			failed++
			fmt.Fprintf(io.errOut, "%s: %s %q: %s\n", m.Source, m.Object.GetKind(), m.Object.GetName(), client.FormatError(err))
			continue
		}
		fmt.Fprintf(io.out, "%s %s\n", res.Target, res.Action)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d objects failed to apply (see above)", failed, len(manifests))
	}
	return nil
}
