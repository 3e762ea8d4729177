package runtime

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// reasonOOMKilled is the kubelet's termination reason for a container the
// kernel's OOM killer ended inside its memory limit.
const reasonOOMKilled = "OOMKilled"

// oomKillsOf is how many times the OOM killer acted in container name's
// cgroup: memory.events on cgroup v2; memory.oom_control in the v1
// memory hierarchy, where runc puts the same path on a hybrid host.
func (w *podWorker) oomKillsOf(name string) uint64 {
	rel := filepath.Join(w.sb.cgroupR, name)
	n := oomKillField(filepath.Join(w.r.cgroupMount, rel, "memory.events"))
	if v1 := memoryV1(); v1 != "" {
		n += oomKillField(filepath.Join(v1, rel, "memory.oom_control"))
	}
	return n
}

// oomKillField is the oom_kill line of a memory.events or
// memory.oom_control file (0 when it cannot be read: no memory
// controller there, or the cgroup is gone).
func oomKillField(path string) uint64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "oom_kill "); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

// memoryV1 is where the cgroup v1 memory hierarchy is mounted ("" on a
// pure cgroup v2 host), read once.
var memoryV1 = sync.OnceValue(func() string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	return memoryV1From(data)
})

// memoryV1From finds the v1 memory hierarchy in a mountinfo: a cgroup
// file system whose super options name the memory controller.
func memoryV1From(mountinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || g[0] != "cgroup" {
			continue
		}
		for _, o := range strings.Split(g[2], ",") {
			if o == "memory" {
				return f[4]
			}
		}
	}
	return ""
}
