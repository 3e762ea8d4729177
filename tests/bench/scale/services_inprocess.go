package scale

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/weirnet/weir/dataplane"
)

// InProcess is Manager.Upsert measured in this process, on a dataplane of
// its own (a weirbench netns with a veth as its per-packet interface, so
// that Maglev tables are kept as on a node, and a weirbench cgroup).
type InProcess struct {
	Services        int     `json:"services"`
	SyncSeconds     float64 `json:"syncSeconds"` // Sync from the previous size (the first: from empty maps)
	Upserts         int     `json:"upserts"`
	UpsertMeanUs    float64 `json:"upsertMeanUs"`
	UpsertP99Us     float64 `json:"upsertP99Us"`
	UpsertCPUMeanUs float64 `json:"upsertCPUMeanUs"` // this process's CPU (user+sys) per Upsert
	// HeapMiB: Go heap after a GC with the Manager holding this size,
	// less the heap before it was created: the dataplane's own state.
	HeapMiB float64 `json:"heapMiB"`
}

func measureInProcess(ctx context.Context, cfg Config) ([]InProcess, error) {
	name := "weirbench-" + randomHex(3)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	for _, args := range [][]string{{"link", "add", "eth0", "type", "veth", "peer", "name", "eth1"}, {"link", "set", "eth0", "up"}} {
		if out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ip -n %s %v: %v: %s", name, args, err, out)
		}
	}
	root, err := cgroup2Root()
	if err != nil {
		return nil, err
	}
	cg := filepath.Join(root, name)
	if err := os.Mkdir(cg, 0o755); err != nil {
		return nil, err
	}
	defer os.Remove(cg)
	dcfg := dataplane.Config{Instance: name, CgroupPath: cg, Netns: name, Interfaces: []string{"eth0"},
		NodeIPs: []netip.Addr{netip.MustParseAddr("192.168.251.1")}, Logger: slog.New(slog.DiscardHandler)}
	heap0 := heapMiB()
	m, err := dataplane.New(dcfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		m.Close()
		if err := dataplane.Cleanup(dcfg); err != nil {
			fmt.Fprintf(cfg.Log, "dataplane cleanup of %s: %v\n", name, err)
		}
	}()
	var out []InProcess
	for _, n := range cfg.Services {
		d, err := desired(cfg, n)
		if err != nil {
			return nil, err
		}
		st, err := m.Sync(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("Sync of %d Services: %w", n, err)
		}
		d = dataplane.Desired{}
		r := InProcess{Services: n, SyncSeconds: st.Duration.Seconds(), Upserts: cfg.Changes, HeapMiB: heapMiB() - heap0}
		var times []float64
		cpu0 := processCPU()
		for k := range cfg.Changes {
			i := (k * 7919) % (n / cfg.EndpointsEvery) * cfg.EndpointsEvery
			s := workloadSlice(cfg, i)
			s.Endpoints[0].Addresses = []string{addrPlus(netip.MustParseAddr("172.24.0.0"), k+1).String()}
			svcs, err := dataplane.ServicePorts(clusterService(i), []*discoveryv1.EndpointSlice{s})
			if err != nil {
				return nil, err
			}
			t0 := time.Now()
			if _, err := m.Upsert(ctx, svcs...); err != nil {
				return nil, err
			}
			times = append(times, float64(time.Since(t0).Microseconds()))
		}
		r.UpsertCPUMeanUs = float64((processCPU() - cpu0).Microseconds()) / float64(cfg.Changes)
		for _, t := range times {
			r.UpsertMeanUs += t / float64(len(times))
		}
		r.UpsertP99Us = pct(times, 99)
		logf(cfg, "in-process dataplane at %d Services: Sync %.2fs, Upsert mean %.0f µs (CPU %.0f µs), p99 %.0f µs", n, r.SyncSeconds, r.UpsertMeanUs, r.UpsertCPUMeanUs, r.UpsertP99Us)
		out = append(out, r)
	}
	return out, nil
}

// clusterService is Service i as the API would return it: ClusterIP
// 10.100.0.0+i+1.
func clusterService(i int) *corev1.Service {
	s := serviceObj(i)
	s.Spec.ClusterIP = addrPlus(netip.MustParseAddr("10.100.0.0"), i+1).String()
	s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	return s
}

// desired is the workload of n Services as the dataplane sees it.
func desired(cfg Config, n int) (dataplane.Desired, error) {
	var d dataplane.Desired
	for i := range n {
		var slices []*discoveryv1.EndpointSlice
		if i%cfg.EndpointsEvery == 0 {
			slices = append(slices, workloadSlice(cfg, i))
		}
		ports, err := dataplane.ServicePorts(clusterService(i), slices)
		if err != nil {
			return d, err
		}
		d.Services = append(d.Services, ports...)
	}
	return d, nil
}

func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cgroup2Root is the cgroup v2 mount point (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on hybrid hosts).
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				return fields[4], nil
			}
		}
	}
	return "", fmt.Errorf("no cgroup2 mount in /proc/self/mountinfo")
}
