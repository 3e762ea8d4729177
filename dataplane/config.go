package dataplane

import (
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
)

// Config says where the dataplane lives and how big its maps are. Zero
// values get the defaults below.
type Config struct {
	// Instance names the pin directory <BPFFSRoot>/weir/<Instance>/
	// (letters, digits, '-', '_', '.'; required).
	Instance string
	// BPFFSRoot is where bpffs is mounted; default /sys/fs/bpf. New mounts
	// bpffs there when it is not mounted yet.
	BPFFSRoot string
	// CgroupPath is the cgroup v2 directory the socket hooks attach to
	// (required). The cgroup2 root itself is refused.
	CgroupPath string
	// Netns optionally names a network namespace (as in `ip netns`) in
	// which Interfaces live.
	Netns string
	// Interfaces get the per-packet programs on tc clsact ingress and
	// egress: the node's underlay (NodePort, ExternalIPs from outside) and
	// pod veths whose sockets are outside CgroupPath. Empty: socket LB only,
	// and no Maglev tables are kept.
	Interfaces []string
	// NodeIPs are the node's addresses, frontends of NodePort services.
	NodeIPs []netip.Addr

	// MaxServices bounds the frontends (address, port, protocol); default 65536.
	MaxServices int
	// MaxBackends bounds backend entries over all services; default 262144.
	MaxBackends int
	// MaxSlots bounds the backend slots of all frontends (a backend of a
	// service with two frontends takes two slots); default MaxServices+2*MaxBackends.
	MaxSlots int
	// MaglevTableSize is the per-service Maglev table size, a prime; default 1021.
	MaglevTableSize int
	// ConntrackSize is the LRU conntrack of the per-packet path; default 131072.
	ConntrackSize int
	// SockRevNatSize is the LRU socket reverse-NAT map (UDP replies,
	// getpeername); default 131072.
	SockRevNatSize int
	// AffinitySize is the LRU session-affinity map; default 65536.
	AffinitySize int

	// Logger defaults to slog.Default(). Registerer, when set, receives the
	// metrics (never the global registry by default).
	Logger     *slog.Logger
	Registerer prometheus.Registerer

	// noSetRetval loads the programs as on kernels without bpf_set_retval
	// (< 5.18), for tests of that path.
	noSetRetval bool
}

var instanceRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// withDefaults returns cfg with defaults filled in, or a clear error.
func (cfg Config) withDefaults() (Config, error) {
	if !instanceRE.MatchString(cfg.Instance) || cfg.Instance == "." || cfg.Instance == ".." {
		return cfg, fmt.Errorf("dataplane: instance %q: use 1-64 letters, digits, '-', '_' or '.'", cfg.Instance)
	}
	if cfg.BPFFSRoot == "" {
		cfg.BPFFSRoot = "/sys/fs/bpf"
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxServices, 65536)
	def(&cfg.MaxBackends, 262144)
	def(&cfg.MaxSlots, cfg.MaxServices+2*cfg.MaxBackends)
	def(&cfg.MaglevTableSize, 1021)
	def(&cfg.ConntrackSize, 131072)
	def(&cfg.SockRevNatSize, 131072)
	def(&cfg.AffinitySize, 65536)
	if !isPrime(cfg.MaglevTableSize) || cfg.MaglevTableSize > maglevMaxSize {
		return cfg, fmt.Errorf("dataplane: Maglev table size %d: use a prime <= %d (e.g. 251, 1021, 4093, 16381)", cfg.MaglevTableSize, maglevMaxSize)
	}
	if cfg.MaxServices > 1<<24 {
		return cfg, fmt.Errorf("dataplane: MaxServices %d exceeds %d", cfg.MaxServices, 1<<24)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// PinDir is the directory holding the instance's pinned maps and links.
func (cfg Config) PinDir() string {
	root := cfg.BPFFSRoot
	if root == "" {
		root = "/sys/fs/bpf"
	}
	return filepath.Join(root, "weir", cfg.Instance)
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}
