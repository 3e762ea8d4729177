package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/weirnet/weir/node/runtime"
)

func runImage(ctx context.Context, args []string) error { return imageCmd(ctx, stdio(), args) }

// imageCmd: `weir image import FILE.tar --node N` loads an OCI or docker
// archive into the node's containerd namespace (weir-N).
func imageCmd(ctx context.Context, io cliIO, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return errors.New("usage: weir image import FILE.tar [--node NAME | --namespace NS] [--containerd SOCKET]")
	}
	fs := flag.NewFlagSet("image import", flag.ContinueOnError)
	fs.SetOutput(io.errOut)
	node := fs.String("node", "", "node whose containerd namespace (weir-NODE) gets the image")
	ns := fs.String("namespace", "", "containerd namespace (overrides --node)")
	sock := fs.String("containerd", "/run/containerd/containerd.sock", "containerd socket")
	snap := fs.String("snapshotter", "overlayfs", "snapshotter to unpack into")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: weir image import FILE.tar [--node NAME | --namespace NS]")
	}
	if *ns == "" {
		if *node == "" {
			return errors.New("weir image import: pass --node NAME (the agent's node name) or --namespace NS")
		}
		*ns = "weir-" + *node
	}
	names, err := runtime.ImportFile(ctx, *sock, *ns, *snap, pos[0])
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintf(io.out, "imported %s into containerd namespace %s\n", n, *ns)
	}
	return nil
}
