package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/weirnet/weir/control/member"
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

// rotateCACmd is `weir certs rotate-ca [--finish [--force]]`, run on a
// control member's host with its member certificate.
func rotateCACmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("certs rotate-ca", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir certs rotate-ca [--finish [--force]] [--data-dir DIR] [--peer HOST:PORT]\n\n"+
			"Run on a control member's host. Without --finish: a new cluster CA signs every new certificate; the\n"+
			"previous CA stays trusted (ca.crt, kubeconfigs, kube-root-ca.crt hold both) and cross-signs the new one;\n"+
			"members and agents renew their certificates. --finish: the previous CA is no longer trusted (refused\n"+
			"while a member or node still uses a certificate of it, unless --force).")
		fs.PrintDefaults()
	}
	mf := addMemberFlags(fs)
	finish := fs.Bool("finish", false, "end the rotation: stop trusting the previous CA")
	force := fs.Bool("force", false, "with --finish: finish even if members or nodes still use certificates of the previous CA")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || (*force && !*finish) {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", args)
	}
	ctx, cancel := context.WithTimeout(ctx, *mf.timeout)
	defer cancel()
	var res member.RotateCAResult
	if err := store.CallAt(ctx, *mf.dataDir, *mf.peer, member.OpRotateCA, &member.RotateCARequest{Finish: *finish, Force: *force}, &res); err != nil {
		return fmt.Errorf("rotate the cluster CA: %w", err)
	}
	if *finish {
		fmt.Fprintf(io.out, "CA rotation finished: only %q is trusted now\n", res.CA)
		if len(res.Pending) > 0 {
			fmt.Fprintf(io.out, "cut off (still on the previous CA): %s\n", strings.Join(res.Pending, ", "))
		}
		fmt.Fprintln(io.out, "hand out the new ca.crt (a member's data dir) and new kubeconfigs; those of the previous CA no longer work")
		return nil
	}
	fmt.Fprintf(io.out, "CA rotation started: %q signs from now on, %q stays trusted\n"+
		"hand out the new ca.crt (both CAs) and kubeconfigs, let members and agents renew, then run `weir certs rotate-ca --finish`\n",
		res.CA, res.Previous)
	return nil
}
