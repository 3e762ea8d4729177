package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"

	"github.com/weirnet/weir/control/client"
)

func runScale(ctx context.Context, args []string) error { return scaleCmd(ctx, stdio(), args) }

func scaleCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir scale deployment/NAME|replicaset/NAME --replicas N [--current-replicas N] [-n NS]")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	replicas := fs.Int("replicas", -1, "the new number of replicas (required)")
	current := fs.Int("current-replicas", -1, "precondition: only scale when the object has this many replicas now (-1: no precondition)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *replicas < 0 || *replicas > math.MaxInt32 {
		return errors.New("pass --replicas N with 0 <= N <= 2147483647")
	}
	if *current > math.MaxInt32 {
		return fmt.Errorf("invalid --current-replicas %d: too large", *current)
	}
	ref, err := client.ParseWorkloadRef(pos, "deployments", "replicasets")
	if err != nil {
		return err
	}
	o := client.ScaleOptions{Replicas: int32(*replicas)}
	if *current >= 0 {
		n := int32(*current)
		o.CurrentReplicas = &n
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Scale(ctx, nsOpts.Namespace, ref, o); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "%s scaled\n", ref)
	return nil
}
