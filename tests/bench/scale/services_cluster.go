package scale

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/localcluster"
)

// cluster is a running `weir up` cluster of the benchmark.
type cluster struct {
	cfg     localcluster.Config
	state   clusterState
	kube    kubernetes.Interface
	procs   []proc
	metrics *http.Client // dials into a node's netns by the URL's host (the node name)
}

// clusterState is the part of DATA-DIR/cluster.json (written by weir up)
// the benchmark reads.
type clusterState struct {
	Underlay string `json:"underlay"`
	Nodes    []struct {
		Name string `json:"name"`
		IP   string `json:"ip"`
	} `json:"nodes"`
	Members []struct {
		Name string `json:"name"`
		IP   string `json:"ip"`
		Dir  string `json:"dir"`
	} `json:"members"`
}

// metricsPort is where every agent serves its metrics, on loopback in its
// node's netns.
const metricsPort = "9466"

// startCluster runs `weir up --nodes N` (in this process, through
// localcluster, so that the agents get --metrics-addr) in its own data
// dir, prefix and API port.
func startCluster(ctx context.Context, cfg Config, nodes int) (*cluster, error) {
	prefix := "weirsc" + randomHex(3)
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &cluster{cfg: localcluster.Config{DataDir: filepath.Join(cfg.Dir, prefix), Bin: filepath.Dir(cfg.WeirBin),
		Nodes: nodes, Control: 1, Prefix: prefix, Listen: listen, Out: cfg.Log, NoClientConfig: true,
		AgentArgs: []string{"--metrics-addr", "127.0.0.1:" + metricsPort, "--log-level", "warn"}}}
	logf(cfg, "weir up --nodes %d --control 1 (data %s)", nodes, c.cfg.DataDir)
	if err := localcluster.Up(ctx, c.cfg); err != nil {
		c.Close(cfg)
		return nil, err
	}
	if err := c.open(); err != nil {
		c.Close(cfg)
		return nil, err
	}
	return c, nil
}

func (c *cluster) open() error {
	data, err := os.ReadFile(filepath.Join(c.cfg.DataDir, "cluster.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &c.state); err != nil {
		return fmt.Errorf("parse cluster.json: %w", err)
	}
	if len(c.state.Members) == 0 || len(c.state.Nodes) == 0 {
		return fmt.Errorf("cluster.json lists %d members and %d nodes", len(c.state.Members), len(c.state.Nodes))
	}
	// The API of the member itself, dialed inside the underlay netns: the
	// bare server is reached on loopback without weir up's proxy, and so
	// is this one.
	m := c.state.Members[0]
	rc, err := memberConfig(net.JoinHostPort(m.IP, "6443"), m.Dir)
	if err != nil {
		return err
	}
	underlay := c.state.Underlay
	rc.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialIn(ctx, underlay, network, addr)
	}
	if c.kube, err = kubernetes.NewForConfig(rc); err != nil {
		return err
	}
	if c.procs, err = recorded(c.cfg.DataDir); err != nil {
		return err
	}
	c.metrics = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			return dialIn(ctx, host, network, "127.0.0.1:"+metricsPort)
		}}}
	return nil
}

// Close runs weir down (it stops every process weir up recorded and
// removes every netns, cgroup and pin).
func (c *cluster) Close(cfg Config) {
	if err := localcluster.Down(localcluster.Config{DataDir: c.cfg.DataDir, Out: cfg.Log}, false); err != nil {
		fmt.Fprintf(cfg.Log, "weir down --data-dir %s: %v\n", c.cfg.DataDir, err)
	}
}

// memberConfig is a client of the member listening on addr whose data
// dir (token, ca.crt) is dir.
func memberConfig(addr, dir string) (*rest.Config, error) {
	tok, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		return nil, err
	}
	return &rest.Config{Host: "https://" + addr, BearerToken: strings.TrimSpace(string(tok)),
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(dir, "ca.crt")},
		QPS:             -1, Timeout: 30 * time.Second}, nil
}

// bareServer is a lone `weir server` on loopback: no agents, no nodes.
type bareServer struct {
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	kube kubernetes.Interface
}

func startBare(ctx context.Context, cfg Config) (*bareServer, error) {
	dir, err := os.MkdirTemp(cfg.Dir, "weir-bench-scale-bare-")
	if err != nil {
		return nil, err
	}
	api, err := freeAddr()
	if err != nil {
		return nil, err
	}
	peer, err := freeAddr()
	if err != nil {
		return nil, err
	}
	b := &bareServer{dir: dir, done: make(chan struct{})}
	lf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	b.cmd = exec.Command(cfg.WeirBin, "server", "--name", "bare", "--data-dir", filepath.Join(dir, "data"),
		"--listen", api, "--peer", peer, "--bootstrap", "--log-level", "warn")
	b.cmd.Stdout, b.cmd.Stderr = lf, lf
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start weir server: %w", err)
	}
	go func() { defer close(b.done); _ = b.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err = b.connect(ctx, api)
		if err == nil {
			return b, nil
		}
		select {
		case <-b.done:
			b.Close()
			return nil, fmt.Errorf("weir server exited (log %s/server.log)", dir)
		case <-ctx.Done():
			b.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Close()
			return nil, fmt.Errorf("weir server not ready within 60s: %w (log %s/server.log)", err, dir)
		}
	}
}

func (b *bareServer) connect(ctx context.Context, api string) error {
	rc, err := memberConfig(api, filepath.Join(b.dir, "data"))
	if err != nil {
		return err
	}
	k, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	if _, err := k.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return err
	}
	b.kube = k
	return nil
}

// Close kills the server by PID and removes its data.
func (b *bareServer) Close() {
	_ = b.cmd.Process.Kill()
	<-b.done
	os.RemoveAll(b.dir)
}

// dialIn connects to addr from inside the named network namespace; the
// socket stays there.
func dialIn(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := inNetns(ns, func() (err error) {
		var d net.Dialer
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

// inNetns runs fn on a thread in the named netns (sockets it opens stay
// there). A thread that cannot be moved back is never reused: it stays
// locked and ends with its goroutine.
func inNetns(name string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		h, err := netns.GetFromName(name)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netns %s: %w", name, err)
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("enter netns %s: %w", name, err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// scrape reads the unlabelled metrics names from node's agent.
func (c *cluster) scrape(ctx context.Context, node string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+node+":"+metricsPort+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.metrics.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agent %s metrics: %w", node, err)
	}
	defer resp.Body.Close()
	return parseMetrics(resp.Body, names...)
}

// parseMetrics picks unlabelled samples out of the Prometheus text format.
func parseMetrics(r io.Reader, names ...string) (map[string]float64, error) {
	out := map[string]float64{}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && want[f[0]] {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, fmt.Errorf("metric %s: %w", f[0], err)
			}
			out[f[0]] = v
		}
	}
	return out, sc.Err()
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
