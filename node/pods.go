package node

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/weirnet/weir/node/runtime"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// PodRuntime runs the node's pods: node/runtime.Runtime, or a test's own.
type PodRuntime interface {
	Sync(pods []corev1.Pod)
	Close()
}

// openPods starts the containerd pod runtime when Config.RunPods is set;
// its status reports go to the control plane through the pod reporter.
func (a *Agent) openPods() error {
	if !a.cfg.RunPods {
		return nil
	}
	netnsPath := ""
	if a.cfg.Netns != "" {
		netnsPath = "/run/netns/" + a.cfg.Netns
	}
	dnsIP, err := clusterDNS(a.cfg.ClusterDNS, a.cfg.ServiceCIDR)
	if err != nil {
		return err
	}
	api := &apiClient{base: nodeAPIConfig(a.id.certificate, a.id.roots), addrs: a.apiAddrs}
	a.id.onRenew(api.renewed)
	proj := newProjector(api, a.log) // projected.go
	proj.memory = runtime.MountTmpfs
	rt, err := runtime.New(runtime.Config{
		Address: a.cfg.Containerd, NodeName: a.cfg.NodeName, RuncRoot: a.cfg.RuncRoot, InsecureRegistries: a.cfg.InsecureRegistries,
		CgroupRoot: a.cfg.CgroupRoot, DataDir: filepath.Join(a.cfg.DataDir, "pods"),
		CNIConfFile: filepath.Join(a.cfg.CNIConfDir, CNIConfName), CNIBinDirs: a.cniBinDirs(), NodeNetns: netnsPath, NodeIPs: a.cfg.Addresses,
		ClusterDNS: dnsIP, ClusterDomain: strings.TrimSuffix(a.cfg.DNSZone, "."),
		BackoffBase: a.cfg.PodBackoff, Report: a.reportPod, Event: a.openEvents(), Logger: a.log, Volumes: proj,
		Objects: proj, Claims: claims{api}, NodeCapacity: nodeCapacity(),
	})
	if err != nil {
		proj.close()
		return err
	}
	a.pods = rt
	cleaner := startLocalPathCleaner(api, a.cfg.NodeName, a.log)       // localpath.go
	a.closers = append(a.closers, proj.close, rt.Close, cleaner.close) // detaches: pods keep running
	return nil
}

// ClusterDNSAuto as Config.ClusterDNS: the 10th address of the service
// CIDR, kube-system/kube-dns's ClusterIP in a weir cluster.
const ClusterDNSAuto = "auto"

func clusterDNS(v, serviceCIDR string) (string, error) {
	switch v {
	case "":
		return "", nil
	case ClusterDNSAuto:
		p, err := netip.ParsePrefix(serviceCIDR)
		if err != nil {
			return "", fmt.Errorf("agent: --cluster-dns auto needs --service-cidr: %w", err)
		}
		ip := p.Masked().Addr()
		for range 10 {
			ip = ip.Next()
		}
		if !p.Contains(ip) {
			return "", fmt.Errorf("agent: --service-cidr %s has no 10th address for --cluster-dns auto: pass the DNS ClusterIP", serviceCIDR)
		}
		return ip.String(), nil
	}
	if _, err := netip.ParseAddr(v); err != nil {
		return "", fmt.Errorf("agent: --cluster-dns %q: want an IP, auto or empty: %w", v, err)
	}
	return v, nil
}

// syncPods hands the pods bound to this node to the runtime; statuses of
// pods no longer wanted are forgotten once sent.
func (a *Agent) syncPods() {
	if a.pods == nil {
		return
	}
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.mu.Lock()
	pods := a.state.Pods()
	streamed := a.state.Versions[pb.Kind_KIND_PODS] > 0
	a.mu.Unlock()
	var mine []corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName == a.cfg.NodeName {
			mine = append(mine, p)
		}
	}
	a.syncMirrors(pods) // before static pods start: their reports follow their mirrors
	fromAPI := mine
	mine = a.withStatic(slices.Clone(mine))
	keep := map[string]bool{}
	for _, p := range mine {
		keep[p.Namespace+"/"+p.Name] = true
	}
	if ps, ok := a.pods.(partialSyncer); ok && !streamed {
		ps.SyncPartial(mine) // static pods only: the others are not known yet
	} else {
		a.pods.Sync(mine)
	}
	a.reports.prune(keep)
	a.reports.reconcile(fromAPI)
}

// reportPod is the runtime's Report callback: the status with the node's
// address as hostIP, kept for the stream. A Pending status for a pod the
// API has Running is not sent: it is a restarted agent's fresh worker
// before it adopted the running containers, and would flap the pod out
// of its Service's endpoints.
func (a *Agent) reportPod(rp runtime.PodReport) {
	a.mu.Lock()
	cur, ok := a.state.pods[rp.Namespace+"/"+rp.Name]
	a.mu.Unlock()
	st := &rp.Status
	if ok && !rp.Removed && st.Phase == corev1.PodPending && cur.Status.Phase == corev1.PodRunning {
		return
	}
	if st.HostIP == "" && len(a.cfg.Addresses) > 0 {
		st.HostIP = a.cfg.Addresses[0]
		st.HostIPs = nil
		for _, ip := range a.cfg.Addresses {
			st.HostIPs = append(st.HostIPs, corev1.HostIP{IP: ip})
		}
	}
	a.reports.report(rp)
}

// cniBinDirs are the configured CNI plugin directories and the portmap
// plugin's, if it lives elsewhere.
func (a *Agent) cniBinDirs() []string {
	dirs := append([]string(nil), a.cfg.CNIBinDirs...)
	if a.portmapDir != "" && !slices.Contains(dirs, a.portmapDir) {
		dirs = append(dirs, a.portmapDir)
	}
	return dirs
}
