package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/weirnet/weir/control/client"
)

func runRollout(ctx context.Context, args []string) error { return rolloutCmd(ctx, stdio(), args) }

const rolloutUsage = `usage: weir rollout SUBCOMMAND deployment/NAME [-n NS] [flags]

subcommands:
  status   follow the rollout until it is done (--timeout D, -w=false to print once)
  history  list revisions (--revision N prints one revision's pod template)
  undo     roll back to the previous revision (--to-revision N)
  restart  roll out fresh pods of the current template`

func rolloutCmd(ctx context.Context, io cliIO, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(io.errOut, rolloutUsage)
		if len(args) == 0 {
			return errors.New("name a subcommand: status, history, undo or restart")
		}
		return flag.ErrHelp
	}
	sub := args[0]
	fs := flag.NewFlagSet("rollout "+sub, flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() { fmt.Fprintln(io.errOut, rolloutUsage); fs.PrintDefaults() }
	cf := addClientFlags(fs)
	var o client.RolloutStatusOptions
	var revision int64
	switch sub {
	case "status":
		fs.BoolVar(&o.Watch, "watch", true, "follow the rollout until it ends (-w=false: print the status once)")
		fs.BoolVar(&o.Watch, "w", true, "shorthand for --watch")
		fs.DurationVar(&o.Timeout, "timeout", 0, "give up after this long, e.g. 5m (0: wait as long as it takes)")
	case "history":
		fs.Int64Var(&revision, "revision", 0, "print this revision's pod template")
	case "undo":
		fs.Int64Var(&revision, "to-revision", 0, "revision to roll back to (0: the previous one)")
	case "restart":
	default:
		return fmt.Errorf("unknown rollout subcommand %q: use status, history, undo or restart", sub)
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	ref, err := client.ParseWorkloadRef(pos, "deployments")
	if err != nil {
		return err
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	ns := nsOpts.Namespace
	switch sub {
	case "status":
		o.Namespace, o.Name = ns, ref.Name
		return c.RolloutStatus(ctx, o, io.out)
	case "history":
		return rolloutHistory(ctx, c, io, ns, ref, revision)
	case "undo":
		msg, err := c.RolloutUndo(ctx, ns, ref.Name, revision)
		if err != nil {
			return err
		}
		fmt.Fprintln(io.out, msg)
		return nil
	default:
		if err := c.RolloutRestart(ctx, ns, ref.Name, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "%s restarted\n", ref)
		return nil
	}
}

func rolloutHistory(ctx context.Context, c *client.Client, io cliIO, ns string, ref client.WorkloadRef, revision int64) error {
	_, revs, err := c.RolloutHistory(ctx, ns, ref.Name)
	if err != nil {
		return err
	}
	if revision == 0 {
		return client.PrintHistory(io.out, ref, revs)
	}
	for _, r := range revs {
		if r.Number != revision {
			continue
		}
		data, err := yaml.Marshal(r.Template)
		if err != nil {
			return fmt.Errorf("encode revision %d: %w", revision, err)
		}
		fmt.Fprintf(io.out, "%s with revision #%d\nPod Template:\n%s", ref, revision, data)
		return nil
	}
	return fmt.Errorf("unable to find the specified revision %d of %s: see `weir rollout history %s`", revision, ref, ref)
}
