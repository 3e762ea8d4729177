package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/weirnet/weir/control/status"
)

func runStatus(ctx context.Context, args []string) error { return statusCmd(ctx, stdio(), args) }

// statusCmd prints the cluster's health at a glance and fails when a
// line is marked as a problem.
func statusCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	cf := addClientFlags(fs)
	probe := fs.Bool("probe-members", false, "GET each member's /readyz on its API address (default: only loopback members)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected arguments %q; usage: weir status [flags]", pos)
	}
	c, _, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := status.Collect(ctx, c, *probe)
	if err != nil {
		return err
	}
	if err := r.Print(io.out); err != nil {
		return err
	}
	if n := r.Problems(); n > 0 {
		return fmt.Errorf("%d problem(s) marked !!; `weir describe node|pod NAME` and the logs tell more", n)
	}
	return nil
}
