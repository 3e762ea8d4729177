package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/weirnet/weir/localcluster"
)

func runUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir up", flag.ContinueOnError)
	var c localcluster.Config
	fs.StringVar(&c.DataDir, "data-dir", "/var/lib/weir", "where the local cluster keeps its state, logs and PIDs")
	fs.StringVar(&c.Bin, "bin", "", "directory with weir, weir-cni and weir-testimage.tar (default: this binary's)")
	fs.IntVar(&c.Nodes, "nodes", 2, "number of nodes (one netns and agent each)")
	fs.IntVar(&c.Control, "control", 1, "number of control members (1, or 3 to survive the loss of one)")
	fs.BoolVar(&c.NoClientConfig, "no-client-config", false, "do not write ~/.kube/weir.config (for a second cluster beside the main one); DATA-DIR/kubeconfig is written anyway")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:6443", "host loopback address of the API (a proxy into the underlay netns)")
	fs.StringVar(&c.Peer, "peer", ":2380", "raft peer port as :PORT; each member listens on its underlay IP with it")
	fs.StringVar(&c.Prefix, "prefix", "weir", "prefix of the netns, cgroup and node names")
	proxy := fs.Bool("proxy", false, "internal: run only the API proxy (started by weir up)")
	proxyNetns := fs.String("proxy-netns", "", "internal: netns the proxy dials into")
	proxyTarget := fs.String("proxy-target", "", "internal: addresses the proxy dials (comma-separated, first live one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *proxy {
		return localcluster.RunProxy(ctx, c.Listen, *proxyNetns, *proxyTarget)
	}
	return localcluster.Up(ctx, c)
}

func runKubeconfig(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir kubeconfig", flag.ContinueOnError)
	dir := fs.String("data-dir", "/var/lib/weir", "data dir of `weir up` (or of a control member) whose cluster the kubeconfig is for")
	server := fs.String("server", "", "API URL to put in the kubeconfig (default: weir up's proxy, https://127.0.0.1:6443)")
	tokenFile := fs.String("token-file", "", "the cluster token's file (default: the control member's DATA-DIR/token)")
	userName := fs.String("user", "", "issue a client certificate for this user, signed by the cluster CA in DATA-DIR (run as root on a control member), instead of the admin token")
	var groups groupList
	fs.Var(&groups, "group", "with --user: a group of the user (repeatable)")
	ttl := fs.Duration("ttl", 365*24*time.Hour, "with --user: how long the certificate is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: weir kubeconfig [--data-dir DIR] [--user NAME [--group G]...] > FILE", fs.Args())
	}
	data, err := localcluster.AdminKubeconfig(*dir, *server, *tokenFile)
	if *userName != "" {
		data, err = userKubeconfig(*dir, *server, *tokenFile, *userName, groups, *ttl)
	}
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(data)
	return err
}

func runDown(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir down", flag.ContinueOnError)
	var c localcluster.Config
	keep := fs.Bool("keep-data", false, "keep the data dir (state survives the next `weir up`)")
	fs.StringVar(&c.DataDir, "data-dir", "/var/lib/weir", "where the local cluster keeps its state")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return localcluster.Down(c, *keep)
}
