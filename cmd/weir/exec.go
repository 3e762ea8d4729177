package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/weirnet/weir/control/client"
)

// runExec exits with the command's exit code, as `kubectl exec` does.
func runExec(ctx context.Context, args []string) error {
	code, err := execCmd(ctx, stdio(), args)
	if err != nil {
		return err
	}
	if code != 0 {
		os.Exit(code)
	}
	return nil
}

// execCmd runs a command in a pod's container and returns its exit code;
// a command that could not run is 127 (not found) or 126, with why on
// stderr.
func execCmd(ctx context.Context, cio cliIO, args []string) (int, error) {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(cio.errOut)
	fs.Usage = func() {
		fmt.Fprintln(cio.errOut, "usage: weir exec POD|TYPE/NAME [-c CONTAINER] [-i] [-n NS] -- COMMAND [ARGS...]")
		fs.PrintDefaults()
	}
	cf := addClientFlags(fs)
	var container string
	var stdin bool
	fs.StringVar(&container, "container", "", "the container (default: the pod's only or default container)")
	fs.StringVar(&container, "c", "", "shorthand for --container")
	fs.BoolVar(&stdin, "stdin", false, "pass this terminal's stdin to the command (no terminal is allocated)")
	fs.BoolVar(&stdin, "i", false, "shorthand for --stdin")
	before, cmd := args, []string(nil)
	if i := slices.Index(args, "--"); i >= 0 {
		before, cmd = args[:i], args[i+1:]
	}
	pos, err := parseInterspersed(fs, before)
	if err != nil {
		return 0, err
	}
	if len(pos) > 1 && cmd == nil {
		pos, cmd = pos[:1], pos[1:]
	}
	ref, err := podArg(pos)
	if err != nil {
		return 0, err
	}
	if len(cmd) == 0 {
		return 0, errors.New("give the command after --, e.g. weir exec POD -- ls /")
	}
	c, nsOpts, err := cf.connect()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	pod, err := c.PodFor(ctx, nsOpts.Namespace, ref)
	if err != nil {
		return 0, err
	}
	var in io.Reader
	if stdin {
		in = cio.in
	}
	code, err := c.Exec(ctx, nsOpts.Namespace, pod, container, cmd, in, cio.out, cio.errOut)
	if err != nil && strings.Contains(err.Error(), "Internal error occurred") {
		// The command could not run in the container (the node's answer
		// on the stream's error channel): a shell's exit codes.
		fmt.Fprintf(cio.errOut, "weir exec: %s\n", client.FormatError(err))
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "not found") || strings.Contains(msg, "no such file") {
			return 127, nil
		}
		return 126, nil
	}
	return code, err
}
