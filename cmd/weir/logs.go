package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/weirnet/weir/control/client"
)

func runLogs(ctx context.Context, args []string) error { return logsCmd(ctx, stdio(), args) }

// logsCmd prints a pod container's log, as `kubectl logs`.
func logsCmd(ctx context.Context, io cliIO, args []string) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir logs POD|TYPE/NAME [-c CONTAINER] [-f] [--tail N] [-p] [--timestamps] [--since DURATION] [-n NS]")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	var opts client.LogOptions
	fs.StringVar(&opts.Container, "container", "", "the container (default: the pod's only or default container)")
	fs.StringVar(&opts.Container, "c", "", "shorthand for --container")
	fs.BoolVar(&opts.Follow, "follow", false, "keep printing new output until the container stops or Ctrl-C")
	fs.BoolVar(&opts.Follow, "f", false, "shorthand for --follow")
	fs.Int64Var(&opts.TailLines, "tail", -1, "print only the last N lines (-1: all)")
	fs.BoolVar(&opts.Previous, "previous", false, "the log of the previous instance of a restarted container")
	fs.BoolVar(&opts.Previous, "p", false, "shorthand for --previous")
	fs.BoolVar(&opts.Timestamps, "timestamps", false, "prefix each line with the RFC3339 time it was written")
	fs.DurationVar(&opts.Since, "since", 0, "only lines newer than this duration, e.g. 5s, 2m, 3h")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ref, err := podArg(pos)
	if err != nil {
		return err
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	pod, err := c.PodFor(ctx, nsOpts.Namespace, ref)
	if err != nil {
		return err
	}
	err = c.Logs(ctx, nsOpts.Namespace, pod, opts, io.out)
	if ctx.Err() != nil {
		return nil // interrupted while following
	}
	return err
}

// podArg is the one POD argument: POD, pod/POD, or TYPE/NAME of an
// object that selects pods (deploy/web), resolved by Client.PodFor.
func podArg(pos []string) (string, error) {
	if len(pos) != 1 {
		return "", errors.New("name exactly one pod (POD, pod/POD or TYPE/NAME such as deploy/web)")
	}
	if pos[0] == "" || strings.HasSuffix(pos[0], "/") {
		return "", errors.New("name a pod")
	}
	return pos[0], nil
}
