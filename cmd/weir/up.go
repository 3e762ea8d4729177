package main

import (
	"context"
	"flag"

	"github.com/weirnet/weir/control/localcluster"
)

func runUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir up", flag.ContinueOnError)
	var c localcluster.Config
	fs.StringVar(&c.DataDir, "data-dir", "/var/lib/weir", "where the local cluster keeps its state")
	fs.StringVar(&c.Bin, "bin", "", "directory with the weir binaries (default: this binary's)")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:6443", "API address")
	fs.StringVar(&c.Peer, "peer", "127.0.0.1:2380", "peer address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return localcluster.Up(ctx, c)
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
