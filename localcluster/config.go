package localcluster

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// Underlay addressing inside the underlay netns (never the root netns):
// nodes from 192.168.77.1 up, control members from 192.168.77.254 down.
const (
	clusterCIDR = "10.244.0.0/16"
	maxNodes    = 200
	maxControl  = 5
	apiPort     = "6443"
	nodePort    = "9443"
)

// Config says where the local cluster lives and how big it is.
type Config struct {
	DataDir string    // default /var/lib/weir
	Bin     string    // directory holding weir, weir-cni (default: this executable's)
	Nodes   int       // node count (default 2)
	Control int       // control members (default 1; 3 tolerates one failure)
	Prefix  string    // prefix of netns, cgroup, node and instance names (default "weir")
	Listen  string    // host loopback address of the API proxy (default 127.0.0.1:6443)
	Peer    string    // raft peer port as :PORT (a host is ignored): members listen on MEMBER-IP:PORT (default :2380)
	Out     io.Writer // progress
	// NoClientConfig skips writing ~/.kube/weir.config (tests); the
	// kubeconfig in the data dir is always written.
	NoClientConfig bool
	// ServerArgs are extra `weir server` flags for every member (tests use
	// a short --node-monitor-grace-period).
	ServerArgs []string
	// AgentArgs are extra `weir agent` flags for every node (the scale
	// benchmark's --metrics-addr, served inside each node's netns).
	AgentArgs []string
}

func (c *Config) defaults() error {
	if c.DataDir == "" {
		c.DataDir = "/var/lib/weir"
	}
	if c.Nodes == 0 {
		c.Nodes = 2
	}
	if c.Nodes < 1 || c.Nodes > maxNodes {
		return fmt.Errorf("--nodes %d: want 1..%d", c.Nodes, maxNodes)
	}
	if c.Control == 0 {
		c.Control = 1
	}
	if c.Control < 1 || c.Control > maxControl {
		return fmt.Errorf("--control %d: want 1..%d (3 tolerates the loss of one member)", c.Control, maxControl)
	}
	if c.Prefix == "" {
		c.Prefix = "weir"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:6443"
	}
	if c.Peer == "" {
		c.Peer = ":2380"
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		c.Bin = filepath.Dir(exe)
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return err
	}
	c.DataDir = abs
	return nil
}

func (c *Config) weir() string               { return filepath.Join(c.Bin, "weir") }
func (c *Config) controlDir() string         { return filepath.Join(c.DataDir, "control") } // the first member's
func (c *Config) readyFile() string          { return filepath.Join(c.DataDir, "ready") }
func (c *Config) bootstrapTokenFile() string { return filepath.Join(c.DataDir, "bootstrap-token") }
func (c *Config) stateFile() string          { return filepath.Join(c.DataDir, "cluster.json") }
func (c *Config) pidFile(n string) string    { return filepath.Join(c.DataDir, "pids", n+".pid") }
func (c *Config) logFile(n string) string    { return filepath.Join(c.DataDir, "logs", n+".log") }
func (c *Config) underlay() string           { return c.Prefix + "-underlay" }
func (c *Config) containerdDir() string      { return filepath.Join(c.DataDir, "containerd") }
func (c *Config) containerdSock() string {
	return filepath.Join(c.containerdDir(), "containerd.sock")
}

// nodeSpec is one node of the local cluster.
type nodeSpec struct {
	Name   string `json:"name"`   // Node name, netns name and dataplane instance
	IP     string `json:"ip"`     // underlay address
	Cgroup string `json:"cgroup"` // cgroup v2 directory
	Dir    string `json:"dir"`    // agent data dir
}

// memberSpec is one control member of the local cluster.
type memberSpec struct {
	Name string `json:"name"` // member name and process name
	IP   string `json:"ip"`   // underlay address (API :6443, node stream :9443, peer)
	Dir  string `json:"dir"`  // data dir
}

func (m memberSpec) api() string   { return net.JoinHostPort(m.IP, apiPort) }
func (m memberSpec) nodes() string { return net.JoinHostPort(m.IP, nodePort) }

// state is what `weir up` made, recorded in the data dir for `weir down`.
type state struct {
	Prefix     string       `json:"prefix"`
	Listen     string       `json:"listen,omitempty"` // the API proxy's address
	Underlay   string       `json:"underlay"`
	Nodes      []nodeSpec   `json:"nodes"`
	Members    []memberSpec `json:"members"`
	Cgroup2    string       `json:"cgroup2"`
	Containerd string       `json:"containerdSocket"`
	DemoIP     string       `json:"demoClusterIP,omitempty"` // set once the self-check passed
}

func (c *Config) plan(cgroup2 string) state {
	s := state{Prefix: c.Prefix, Listen: c.Listen, Underlay: c.underlay(), Cgroup2: cgroup2, Containerd: c.containerdSock()}
	for i := 1; i <= c.Control; i++ {
		m := memberSpec{Name: "control-" + strconv.Itoa(i), IP: fmt.Sprintf("192.168.77.%d", 255-i), Dir: c.controlDir()}
		if i > 1 {
			m.Dir = filepath.Join(c.DataDir, m.Name)
		}
		s.Members = append(s.Members, m)
	}
	for i := 1; i <= c.Nodes; i++ {
		name := c.Prefix + "-node-" + strconv.Itoa(i)
		s.Nodes = append(s.Nodes, nodeSpec{Name: name, IP: fmt.Sprintf("192.168.77.%d", i),
			Cgroup: filepath.Join(cgroup2, name), Dir: filepath.Join(c.DataDir, "nodes", name)})
	}
	return s
}

func saveState(path string, s state) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func loadState(path string) (state, error) {
	var s state
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("parse %s: %w", path, err)
	}
	return s, nil
}
