package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/weirnet/weir/control/client"
)

// cliIO is where a client command reads and writes; tests swap it.
type cliIO struct {
	in          io.Reader
	out, errOut io.Writer
}

func stdio() cliIO { return cliIO{in: os.Stdin, out: os.Stdout, errOut: os.Stderr} }

// clientFlags are the flags every client command takes.
type clientFlags struct {
	config, kubeconfig, context, server, token, caFile, namespace string
	getenv                                                        func(string) string
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	f := &clientFlags{getenv: os.Getenv}
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (without it or --config: $WEIR_CONFIG (a weir config), else $KUBECONFIG, else the first of ~/.kube/weir.config, ~/.weir/config, ~/.kube/config that exists)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context (default: its current-context)")
	fs.StringVar(&f.config, "config", "", "weir's older client config file (YAML server/token/caFile), instead of a kubeconfig")
	fs.StringVar(&f.server, "server", "", "API server, HOST:PORT or URL (overrides $WEIR_SERVER and the config file)")
	fs.StringVar(&f.token, "token", "", "bearer token (overrides $WEIR_TOKEN and the config file)")
	fs.StringVar(&f.caFile, "certificate-authority", "", "cluster CA certificate file (a member's DATA-DIR/ca.crt) to verify the server with (overrides the config file's)")
	fs.StringVar(&f.namespace, "namespace", "", "namespace (default: the config's, else \"default\")")
	fs.StringVar(&f.namespace, "n", "", "shorthand for --namespace")
	return f
}

// connect builds the client and the namespace choice from the flags.
func (f *clientFlags) connect() (*client.Client, client.NamespaceOptions, error) {
	cfg, err := client.ResolveConfig(client.Overrides{
		ConfigPath: f.config, KubeconfigPath: f.kubeconfig, Context: f.context, Server: f.server, Token: f.token, CAFile: f.caFile, Namespace: f.namespace,
	}, f.getenv)
	if err != nil {
		return nil, client.NamespaceOptions{}, err
	}
	c, err := client.New(cfg)
	if err != nil {
		return nil, client.NamespaceOptions{}, err
	}
	return c, client.NamespaceOptions{Namespace: c.Namespace(), Explicit: f.namespace != ""}, nil
}

// parseInterspersed parses flags anywhere among the arguments, as kubectl
// users expect (`weir get pods -n kube-system`), and returns the
// positional arguments. "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// stringList is a repeatable string flag (-f a -f b).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// kindAndNames splits `KIND NAME...` or `KIND/NAME...` arguments.
func kindAndNames(args []string) (kind string, names []string, err error) {
	if len(args) == 0 {
		return "", nil, errors.New("name a resource type, e.g. pods, services, deployments (short: po, svc, deploy)")
	}
	for i, a := range args {
		k, n, slash := strings.Cut(a, "/")
		switch {
		case slash && (k == "" || n == ""):
			return "", nil, fmt.Errorf("invalid argument %q: want TYPE/NAME", a)
		case slash && kind != "" && !strings.EqualFold(k, kind):
			return "", nil, fmt.Errorf("mixed types %q and %q: name one type at a time", kind, k)
		case slash:
			kind = k
			names = append(names, n)
		case i == 0:
			kind = a
		default:
			names = append(names, a)
		}
	}
	return kind, names, nil
}
