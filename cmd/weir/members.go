package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
)

func runMembers(ctx context.Context, args []string) error { return membersCmd(ctx, stdio(), args) }

// membersCmd lists the control-plane members, or removes one
// (`weir members remove NAME`), or rotates the cluster secret.
func membersCmd(ctx context.Context, io cliIO, args []string) error {
	if len(args) > 0 && args[0] == "rotate-secret" {
		return rotateSecretCmd(ctx, io, args[1:])
	}
	fs := flag.NewFlagSet("members", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir members [remove NAME] | rotate-secret [--finish]")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
	case len(pos) == 2 && pos[0] == "remove":
	default:
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", pos)
	}
	c, _, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	if len(pos) == 2 {
		if err := c.RemoveMember(ctx, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(io.out, "member %q removed\n", pos[1])
		return nil
	}
	ms, err := c.Members(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.out, 10, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPEER\tAPI\tVOTER\tLEADER")
	for _, m := range ms {
		api := m.APIAddr
		if api == "" {
			api = "<none>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%t\n", m.Name, m.PeerAddr, api, m.Voter, m.Leader)
	}
	return tw.Flush()
}
