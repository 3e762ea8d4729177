package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/weirnet/weir/control/store"
)

// rotateSecretCmd is `weir members rotate-secret [--finish]`, run on a
// control member's host with its member certificate: first every member
// gets a new cluster secret (written to its cluster-secret file) and
// still accepts the old one for joins; --finish drops the old one.
func rotateSecretCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("members rotate-secret", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir members rotate-secret [--finish] [--data-dir DIR] [--peer HOST:PORT]\n\n"+
			"Run on a control member's host. Without --finish: every member writes a new cluster secret to its\n"+
			"cluster-secret file; joins with the new or the old secret are accepted. --finish: only the new one is.")
		fs.PrintDefaults()
	}
	mf := addMemberFlags(fs)
	finish := fs.Bool("finish", false, "drop the previous cluster secret on every member")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", pos)
	}
	ctx, cancel := context.WithTimeout(ctx, *mf.timeout)
	defer cancel()
	res, err := store.RotateSecretAt(ctx, *mf.dataDir, *mf.peer, *finish)
	if err != nil {
		return fmt.Errorf("rotate the cluster secret: %w", err)
	}
	if *finish {
		fmt.Fprintf(io.out, "previous cluster secret dropped on %s: new members join with the new one only\n", strings.Join(res.Members, ", "))
		return nil
	}
	fmt.Fprintf(io.out, "new cluster secret written to the cluster-secret file of %s; the previous one is still accepted\n"+
		"copy the new one to members you will join, then run `weir members rotate-secret --finish`\n", strings.Join(res.Members, ", "))
	return nil
}
