package nodee2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// probeEnv switches the test binary into probe mode: connect to ADDR every
// millisecond until the server answers WANT, then print the time.
const probeEnv = "WEIR_NODEE2E_PROBE" // ADDR WANT

// probeMain is the probe process: "ready" once running, then the Unix
// nanoseconds of the first answer that matched, or exit 1 after 10 s.
func probeMain() int {
	addr, want, _ := strings.Cut(os.Getenv(probeEnv), " ")
	fmt.Println("ready")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.TrimSpace(line) == want {
				fmt.Println(time.Now().UnixNano())
				return 0
			}
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "probe: %s never answered %q\n", addr, want)
	return 1
}

// probe is a running probe process in a pod netns and the node's cgroup.
type probe struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

// startProbe starts a probe from pod (in cgroup, so the node's socket load
// balancer sees it) and returns once it runs.
func startProbe(t *testing.T, pod *testutil.Netns, cgroup, addr, want string) *probe {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := "echo $$ > " + filepath.Join(cgroup, "cgroup.procs") + " && exec " + self
	cmd := exec.Command("nsenter", "--net=/run/netns/"+pod.Name, "sh", "-c", script)
	cmd.Env = append(os.Environ(), probeEnv+"="+addr+" "+want)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start probe: %v", err)
	}
	p := &probe{cmd: cmd, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, err := p.out.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("probe did not start: %q, %v", line, err)
	}
	return p
}

// served waits for the probe's answer: when the endpoint was first served.
func (p *probe) served(t *testing.T) time.Time {
	t.Helper()
	line, err := p.out.ReadString('\n')
	if err != nil {
		t.Fatalf("probe failed: %v", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		t.Fatalf("probe said %q", line)
	}
	_ = p.cmd.Wait()
	return time.Unix(0, ns)
}
