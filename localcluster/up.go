package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/node/runtime"
	"github.com/weirnet/weir/node/runtime/testimage"
)

// Up builds the local cluster (see the package doc) unless it already
// runs, deploys the demo and checks it end to end.
func Up(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	if name, pid, ok := runningMember(&cfg); ok {
		if _, err := os.Stat(cfg.readyFile()); err != nil {
			return fmt.Errorf("a previous `weir up` (control member %s, PID %d) did not finish; run `sudo weir down --data-dir %s`, then `weir up` again", name, pid, cfg.DataDir)
		}
		return alreadyUp(&cfg, name, pid)
	}
	start := time.Now()
	step := func(format string, a ...any) {
		fmt.Fprintf(cfg.Out, "==> [%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	step("checking prerequisites")
	cg2, err := checkPrereqs(&cfg)
	if err != nil {
		return err
	}
	s := cfg.plan(cg2)
	if netnsExists(s.Underlay) {
		return fmt.Errorf("netns %s exists but no control member runs: a previous `weir up` was interrupted; run `sudo weir down --data-dir %s` first", s.Underlay, cfg.DataDir)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	if err := saveState(cfg.stateFile(), s); err != nil {
		return err
	}
	if err := up(ctx, &cfg, s, step); err != nil {
		return fmt.Errorf("%w\nlogs are in %s; `sudo weir down --data-dir %s` removes what was started", err, filepath.Join(cfg.DataDir, "logs"), cfg.DataDir)
	}
	return nil
}

func up(ctx context.Context, cfg *Config, s state, step func(string, ...any)) error {
	step("creating the underlay netns %s (bridge br0, members %s) and %d node netns", s.Underlay, strings.Join(memberIPs(s), ", "), len(s.Nodes))
	if err := setupUnderlay(s); err != nil {
		return err
	}
	for i := range s.Nodes {
		if err := setupNode(s, i); err != nil {
			return err
		}
	}
	api, err := startControl(ctx, cfg, s, step)
	if err != nil {
		return err
	}
	defer api.Close()
	step("starting weir's containerd (%s)", cfg.containerdSock())
	if err := startContainerd(ctx, cfg); err != nil {
		return err
	}
	step("importing the test image into %d node namespaces", len(s.Nodes))
	if err := importImage(ctx, cfg, s); err != nil {
		return err
	}
	if err := createBootstrapToken(ctx, cfg, api); err != nil {
		return err
	}
	var agents []*child
	for _, n := range s.Nodes {
		step("starting agent %s (%s, cgroup %s)", n.Name, n.IP, n.Cgroup)
		a, err := startAgent(cfg, s, n)
		if err != nil {
			return err
		}
		agents = append(agents, a)
	}
	for _, n := range s.Nodes {
		if err := waitFor(ctx, "node "+n.Name+" Ready", 60*time.Second, func() (bool, error) {
			if err := firstExited(agents); err != nil {
				return false, err
			}
			return nodeReady(ctx, api, n.Name), nil
		}); err != nil {
			return fmt.Errorf("%w; see %s", err, cfg.logFile(n.Name))
		}
	}
	if err := routePodCIDRs(ctx, api, s); err != nil {
		return err
	}
	replicas := demoReplicas(len(s.Nodes))
	step("%d nodes Ready; deploying the demo (Deployment demo x%d, Services demo and demo-nodeport)", len(s.Nodes), replicas)
	ip, err := deployDemo(ctx, api, replicas)
	if err != nil {
		return err
	}
	if err := waitFor(ctx, fmt.Sprintf("%d demo pods Ready", replicas), 90*time.Second, func() (bool, error) {
		k, _ := podsReady(ctx, api)
		return k >= int(replicas), nil
	}); err != nil {
		return err
	}
	step("self-check")
	if err := selfCheck(ctx, cfg, s, ip); err != nil {
		return fmt.Errorf("self-check failed: %w", err)
	}
	return finish(cfg, s, ip, step)
}

func startAgent(cfg *Config, s state, n nodeSpec) (*child, error) {
	args := []string{"agent",
		"--server", strings.Join(memberNodeAddrs(s), ","), "--bootstrap-token-file", cfg.bootstrapTokenFile(),
		"--ca-file", filepath.Join(cfg.controlDir(), "ca.crt"), "--node-name", n.Name, "--data-dir", n.Dir,
		"--cgroup-root", n.Cgroup, "--underlay-iface", "eth0", "--cni-conf-dir", filepath.Join(n.Dir, "net.d"),
		"--agent-socket", filepath.Join(n.Dir, "agent.sock"), "--manifest-dir", filepath.Join(n.Dir, "manifests"),
		"--run-pods", "--containerd", cfg.containerdSock(), "--runc-root", filepath.Join(n.Dir, "runc"),
		"--cni-bin-dir", cfg.Bin}
	return startProc(cfg, n.Name, n.Name, cfg.weir(), append(args, cfg.AgentArgs...)...)
}

// createBootstrapToken creates the bootstrap token the agents join with
// (a day's validity: after joining, each agent holds its own node
// certificate), kept 0600 in DATA-DIR/bootstrap-token. The agents never
// see the admin token.
func createBootstrapToken(ctx context.Context, cfg *Config, api *client.Client) error {
	tok := nodestream.NewBootstrapToken()
	sec, err := nodestream.BootstrapTokenSecret(tok, 24*time.Hour, "weir up: the local cluster's node agents")
	if err != nil {
		return err
	}
	if _, err := api.Kube().CoreV1().Secrets(sec.Namespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the agents' bootstrap token: %w", err)
	}
	return os.WriteFile(cfg.bootstrapTokenFile(), []byte(tok+"\n"), 0o600)
}

// importImage imports bin/weir-testimage.tar (`make image`), else builds
// the test image into the data dir, into every node's namespace.
func importImage(ctx context.Context, cfg *Config, s state) error {
	archive := filepath.Join(cfg.Bin, "weir-testimage.tar")
	if _, err := os.Stat(archive); err != nil {
		archive = filepath.Join(cfg.DataDir, "testimage.tar")
		if err := testimage.Build(ctx, archive); err != nil {
			return fmt.Errorf("build the test image (or run `make image`): %w", err)
		}
	}
	for _, n := range s.Nodes {
		names, err := runtime.ImportFile(ctx, cfg.containerdSock(), "weir-"+n.Name, "overlayfs", archive)
		if err != nil {
			return fmt.Errorf("import %s for %s: %w", archive, n.Name, err)
		}
		if len(names) != 1 || names[0] != testimage.Name {
			return fmt.Errorf("import %s: got images %v, want %s", archive, names, testimage.Name)
		}
	}
	return nil
}

func finish(cfg *Config, s state, ip string, step func(string, ...any)) error {
	paths, err := writeKubeconfigs(cfg)
	if err != nil {
		return err
	}
	s.DemoIP = ip
	if err := saveState(cfg.stateFile(), s); err != nil {
		return err
	}
	if err := os.WriteFile(cfg.readyFile(), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	step("self-check passed")
	var names, members []string
	for _, n := range s.Nodes {
		names = append(names, n.Name)
	}
	for _, m := range s.Members {
		members = append(members, m.Name+" "+m.IP)
	}
	fmt.Fprintf(cfg.Out, `
weir is up: %d control member(s) (%s), %d nodes (%s)
API https://%s (a proxy to any live member); kubeconfig written to %s
data, logs and PIDs in %s

For kubectl and weir:
  export KUBECONFIG=%s
`, len(s.Members), strings.Join(members, ", "), len(s.Nodes), strings.Join(names, ", "), cfg.Listen, strings.Join(paths, ", "), cfg.DataDir, kubeconfigHint(cfg))
	tryNext(cfg, s, ip)
	return nil
}

// tryNext prints the commands to try on a running cluster.
func tryNext(cfg *Config, s state, ip string) {
	fmt.Fprintf(cfg.Out, `
Try:
  weir status
  kubectl get namespaces -o name
  kubectl auth whoami
  weir get nodes
  weir get pods -o wide
  weir exec deploy/demo -- wget -q -O - http://demo/     (the demo by name, from a demo pod)
  weir logs deploy/demo
  weir scale deployment/demo --replicas 4 && weir rollout status deployment/demo
  weir apply -f docs/examples/web.yaml                   (from weir's source tree)
  sudo weir dataplane dump --instance %s   (node 1's eBPF service maps)
  sudo sh -c 'echo $$ > %s/cgroup.procs; exec ip netns exec %s busybox wget -q -O - http://%s/'   (the demo's ClusterIP from node 1)
Stop it with: sudo weir down --data-dir %s (or sudo make down)
`, s.Nodes[0].Name, s.Nodes[0].Cgroup, s.Nodes[0].Name, ip, cfg.DataDir)
}

// alreadyUp reports the running cluster instead of touching it.
func alreadyUp(cfg *Config, name string, pid int) error {
	s, err := loadState(cfg.stateFile())
	if err != nil || len(s.Nodes) == 0 {
		return fmt.Errorf("control member %s (PID %d) runs but %s is unreadable (%v); run `sudo weir down --data-dir %s`, then `weir up`", name, pid, cfg.stateFile(), err, cfg.DataDir)
	}
	fmt.Fprintf(cfg.Out, "weir is already up: %d control member(s), %d nodes, API https://%s, data in %s (control member %s, PID %d).\n",
		len(s.Members), len(s.Nodes), cfg.Listen, cfg.DataDir, name, pid)
	fmt.Fprintf(cfg.Out, "Its kubeconfig: export KUBECONFIG=%s (or `sudo weir kubeconfig --data-dir %s`).\n", kubeconfigHint(cfg), cfg.DataDir)
	if want := cfg.plan(s.Cgroup2); len(want.Nodes) != len(s.Nodes) || len(want.Members) != len(s.Members) {
		fmt.Fprintf(cfg.Out, "It was not changed to --nodes %d --control %d: run `sudo weir down --data-dir %s` first to start another shape.\n", cfg.Nodes, cfg.Control, cfg.DataDir)
	}
	fmt.Fprintln(cfg.Out, "`weir status` shows its health.")
	tryNext(cfg, s, s.DemoIP)
	return nil
}

func memberIPs(s state) []string {
	var out []string
	for _, m := range s.Members {
		out = append(out, m.IP)
	}
	return out
}

func tokenOf(cfg *Config) string {
	data, _ := os.ReadFile(filepath.Join(cfg.controlDir(), "token"))
	return strings.TrimSpace(string(data))
}

// kubeconfigHint is the KUBECONFIG value to print: the per-user copy
// (right for root and for the user who ran sudo alike), else the data
// dir's (readable by root only).
func kubeconfigHint(cfg *Config) string {
	if cfg.NoClientConfig {
		return cfg.kubeconfigPath()
	}
	return "$HOME/.kube/weir.config"
}
