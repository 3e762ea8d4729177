package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/weirnet/weir/control/revoke/revokeapi"
	"github.com/weirnet/weir/control/store"
)

func runCerts(ctx context.Context, args []string) error { return certsCmd(ctx, stdio(), args) }

// certsCmd revokes client certificates of the cluster CA and lists the
// revocation list, or rotates the cluster CA.
func certsCmd(ctx context.Context, io cliIO, args []string) error {
	if len(args) > 0 && args[0] == "rotate-ca" {
		return rotateCACmd(ctx, io, args[1:])
	}
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir certs revoke (--serial HEX | --user NAME | --node NAME | --member NAME) [--reason TEXT] | list-revoked | rotate-ca [--finish]\n\n"+
			"revoke --serial: one certificate (its serial as `openssl x509 -noout -serial` prints it);\n"+
			"revoke --user: every certificate of the user issued until now (`weir kubeconfig --user`);\n"+
			"revoke --node: every certificate issued to the node (deleting its Node does this too);\n"+
			"revoke --member: every member (peer) certificate of the control member issued until now.")
		fs.PrintDefaults()
	}
	serial := fs.String("serial", "", "revoke the certificate with this serial number (hex)")
	userName := fs.String("user", "", "revoke every certificate of this user (CN) issued until now")
	node := fs.String("node", "", "revoke every certificate issued to this node")
	member := fs.String("member", "", "revoke every member certificate of this control member issued until now (its peers refuse it)")
	reason := fs.String("reason", "", "why (kept in the list)")
	cf := addClientFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *member != "" {
		if *userName != "" {
			return fmt.Errorf("give one of --serial, --user, --node or --member")
		}
		*userName = store.MemberCNPrefix + *member
	}
	n := 0
	for _, v := range []string{*serial, *userName, *node} {
		if v != "" {
			n++
		}
	}
	switch {
	case len(pos) == 1 && pos[0] == "revoke" && n == 1:
	case len(pos) == 1 && pos[0] == "list-revoked" && n == 0:
	default:
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q: give revoke with one of --serial, --user or --node, or list-revoked", args)
	}
	c, _, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var es []revokeapi.Entry
	if pos[0] == "revoke" {
		if es, err = c.Revoke(ctx, revokeapi.Request{Serial: *serial, User: *userName, Node: *node, Reason: *reason}); err != nil {
			return err
		}
		for _, e := range es {
			if e.User != "" {
				fmt.Fprintf(io.out, "revoked every certificate of user %q issued until %s\n", e.User, e.Revoked.Format(time.RFC3339))
			} else {
				fmt.Fprintf(io.out, "revoked certificate %s %s\n", e.Serial, e.Subject)
			}
		}
		if len(es) == 0 {
			fmt.Fprintln(io.out, "nothing to revoke")
		}
		return nil
	}
	if es, err = c.Revocations(ctx); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.out, 10, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tSUBJECT\tREVOKED\tEXPIRES\tREASON")
	for _, e := range es {
		serial, subject := e.Serial, e.Subject
		if e.User != "" {
			serial, subject = "<all issued until revoked>", "CN="+e.User
		}
		if subject == "" {
			subject = "<unknown>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", serial, subject, e.Revoked.Format(time.RFC3339), e.NotAfter.Format(time.RFC3339), e.Reason)
	}
	return tw.Flush()
}
