// Command weir is the one binary of a weir cluster: control member, node
// agent, local cluster and client, as subcommands (the benchmarks are
// cmd/weir-bench, a binary of their own). Each
// subcommand parses its flags here and hands off to a package.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/weirnet/weir/control/client"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"server":     {"run a control-plane member", runServer},
		"agent":      {"run the node agent (--server, --token-file, --ca-file, --node-name)", runAgent},
		"version":    {"print the weir version", runVersion},
		"apply":      {"server-side apply objects from manifests (-f FILE|DIR|- [--force-conflicts])", runApply},
		"get":        {"list or read objects as the server's tables (weir get TYPE [NAME] [-o wide|yaml|json|name] [-w])", runGet},
		"delete":     {"delete objects (-f FILE | TYPE NAME...)", runDelete},
		"describe":   {"show an object in detail with its events", runDescribe},
		"logs":       {"print a pod container's log (weir logs POD [-c C] [-f] [--tail N])", runLogs},
		"exec":       {"run a command in a pod's container (weir exec POD [-c C] -- CMD ARGS...)", runExec},
		"rollout":    {"follow or change a Deployment's rollout (status, history, undo, restart)", runRollout},
		"scale":      {"set a Deployment's or ReplicaSet's replicas (weir scale deploy/NAME --replicas N)", runScale},
		"members":    {"list control-plane members, or remove one", runMembers},
		"token":      {"create, list or delete node bootstrap tokens; rotate-admin replaces the cluster admin token", runToken},
		"certs":      {"revoke client certificates (--serial, --user, --node, --member), list the revoked ones, or rotate the cluster CA", runCerts},
		"status":     {"show members, nodes, pods and DNS health at a glance", runStatus},
		"snapshot":   {"save a state snapshot, or restore one offline", runSnapshot},
		"encryption": {"list or rotate the keys that encrypt Secrets at rest (on a member's host: weir encryption keys|rotate --data-dir DIR)", runEncryption},
		"up":         {"start the local cluster (sudo weir up)", runUp},
		"down":       {"stop the local cluster and remove its state", runDown},
		"image":      {"import an image archive into a node's containerd (weir image import FILE.tar --node N)", runImage},
		"dns":        {"serve cluster DNS for Service/EndpointSlice/Pod files (--listen, --services)", runDNS},

		"dataplane":  {"eBPF service load balancer from Service/EndpointSlice files; `dataplane dump` prints its maps", runDataplane},
		"kubeconfig": {"print an admin kubeconfig for the cluster in --data-dir (default /var/lib/weir)", runKubeconfig},

		"serviceaccounts": {"rotate-key: replace the ServiceAccount token signing key (on a member's host)", runServiceAccounts},
	}
}

func main() {
	cmds := commands()
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(cmds)
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	c, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "weir: unknown command %q; run `weir help` for the list\n", os.Args[1])
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "weir %s: %s\n", os.Args[1], client.FormatError(err))
		os.Exit(1)
	}
}

func usage(cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: weir COMMAND [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", n, cmds[n].summary)
	}
}

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func runVersion(ctx context.Context, args []string) error {
	fmt.Println("weir", Version)
	return nil
}
