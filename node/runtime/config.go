package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Config configures a Runtime.
type Config struct {
	Address     string // containerd socket; default /run/containerd/containerd.sock
	Namespace   string // containerd namespace; default "weir-" + NodeName
	NodeName    string // required
	Snapshotter string // default overlayfs
	// InsecureRegistries (HOST:PORT) are pulled from over plain HTTP;
	// localhost and 127.0.0.1 registries always are.
	InsecureRegistries []string
	// RuncRoot is runc's state dir for the node's tasks; "" = the shim's
	// default (/run/containerd/runc/<namespace>).
	RuncRoot string

	// CgroupRoot is the node's cgroup v2 directory (absolute, under the
	// cgroup2 mount); pods get <CgroupRoot>/pod<uid>/<container>.
	CgroupRoot string
	DataDir    string // pod files (hosts, resolv.conf, logs); required, absolute

	CNIConfFile string   // the conflist weir-cni is run with (required)
	CNIBinDirs  []string // where weir-cni is found; default /opt/cni/bin
	NodeNetns   string   // path of the node's network namespace for CNI; "" = the agent's own
	NodeIPs     []string // the node's addresses: the IPs of hostNetwork pods (which join NodeNetns)

	ClusterDNS    string // nameserver for dnsPolicy ClusterFirst; "" = copy the host's resolv.conf
	ClusterDomain string // default cluster.local

	BackoffBase time.Duration // first restart delay; default 10s
	BackoffMax  time.Duration // default 5m

	// Report is called with every pod status change (from worker
	// goroutines; it must not block for long). A pod's last report has
	// Removed set.
	Report func(PodReport)
	// Event is called with the kubelet-style events of the pods (Pulling,
	// Pulled, Created, Started, Killing, Unhealthy, BackOff, Failed, ...;
	// see PodEvent) from worker goroutines; it must not block. The same
	// event of the same pod again within a second is dropped.
	Event func(PodEvent)
	// Volumes materializes the pods' volumes it knows (volumes.go); nil:
	// pods get no volumes.
	Volumes Volumes
	// Claims finds the volumes of persistentVolumeClaim volumes (pvc.go);
	// nil: a pod with one cannot start.
	Claims Claims
	// Objects reads the ConfigMaps and Secrets of containers' env
	// valueFrom and envFrom (env.go); nil: such a container cannot start
	// (CreateContainerConfigError).
	Objects Objects
	// NodeCapacity (cpu, memory) is what a resourceFieldRef of an unset
	// limit gives, as the node's allocatable does in the kubelet.
	NodeCapacity corev1.ResourceList
	Logger       *slog.Logger
}

// PodReport is one status report of a pod.
type PodReport struct {
	Namespace, Name string
	UID             types.UID
	Status          corev1.PodStatus
	// Removed: the pod was stopped (deleted, or no longer bound here) and
	// its containers, network and files are gone. Nothing follows it.
	Removed bool
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.NodeName == "":
		return c, errors.New("runtime: node name is required")
	case !filepath.IsAbs(c.DataDir):
		return c, fmt.Errorf("runtime: data dir %q must be absolute", c.DataDir)
	case !filepath.IsAbs(c.CgroupRoot):
		return c, fmt.Errorf("runtime: cgroup root %q must be an absolute cgroup v2 directory", c.CgroupRoot)
	case c.CNIConfFile == "":
		return c, errors.New("runtime: the CNI conflist path is required")
	}
	if c.Address == "" {
		c.Address = "/run/containerd/containerd.sock"
	}
	if c.Namespace == "" {
		c.Namespace = "weir-" + c.NodeName
	}
	if c.Snapshotter == "" {
		c.Snapshotter = "overlayfs"
	}
	if len(c.CNIBinDirs) == 0 {
		c.CNIBinDirs = []string{"/opt/cni/bin"}
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = "cluster.local"
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 10 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Minute
	}
	if c.Report == nil {
		c.Report = func(PodReport) {}
	}
	if c.Event == nil {
		c.Event = func(PodEvent) {}
	}
	c.Event = dropRepeats(c.Event)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
