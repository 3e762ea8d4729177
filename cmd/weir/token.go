package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/nodestream"
)

func runToken(ctx context.Context, args []string) error { return tokenCmd(ctx, stdio(), args) }

// tokenCmd manages node bootstrap tokens (kubeadm's `token` command):
// create prints a new one, list shows them, delete revokes one.
// rotate-admin replaces the cluster admin token (rotate.go).
func tokenCmd(ctx context.Context, io cliIO, args []string) error {
	if len(args) > 0 && args[0] == "rotate-admin" {
		return rotateAdminCmd(ctx, io, args[1:])
	}
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	fs.Usage = func() {
		fmt.Fprintln(io.errOut, "usage: weir token create [--ttl 24h] [--description TEXT] | list | delete ID | rotate-admin\n\n"+
			"Bootstrap tokens let a new node's agent (weir agent --bootstrap-token-file) get its own client certificate.")
		fs.PrintDefaults()
	}
	ttl := fs.Duration("ttl", 24*time.Hour, "how long a created token is valid (0: forever)")
	desc := fs.String("description", "", "a created token's description")
	cf := addClientFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || !(pos[0] == "create" && len(pos) == 1 || pos[0] == "list" && len(pos) == 1 || pos[0] == "delete" && len(pos) == 2) {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %q", pos)
	}
	c, _, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	secrets := c.Kube().CoreV1().Secrets(nodestream.BootstrapTokenNamespace)
	switch pos[0] {
	case "create":
		tok := nodestream.NewBootstrapToken()
		sec, err := nodestream.BootstrapTokenSecret(tok, *ttl, *desc)
		if err != nil {
			return err
		}
		if _, err := secrets.Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create the bootstrap token: %w", err)
		}
		fmt.Fprintln(io.out, tok)
		return nil
	case "delete":
		id, _, _ := strings.Cut(pos[1], ".")
		if err := secrets.Delete(ctx, nodestream.BootstrapTokenPrefix+id, metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("delete bootstrap token %s: %w", id, err)
		}
		fmt.Fprintf(io.out, "bootstrap token %q deleted\n", id)
		return nil
	}
	list, err := secrets.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.out, 10, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "ID\tEXPIRES\tDESCRIPTION")
	for _, s := range list.Items {
		if s.Type != nodestream.SecretTypeBootstrap {
			continue
		}
		exp := string(s.Data["expiration"])
		if exp == "" {
			exp = "<never>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Data["token-id"], exp, s.Data["description"])
	}
	return tw.Flush()
}
