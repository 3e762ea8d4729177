package nodee2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// load is a continuous HTTP client in a node netns and the node's cgroup
// (so that the node's socket load balancer translates the ClusterIP): a
// shell loop of busybox wget, each bounded by busybox timeout, one result
// line per request.
type load struct {
	cmd  *exec.Cmd
	stop string
	done chan struct{}

	mu      sync.Mutex
	ok      int
	fails   []time.Time
	samples []string
	answers map[string]int
}

// startLoad starts the client against url from node n.
func startLoad(t *testing.T, n *node, url string) *load {
	t.Helper()
	l := &load{stop: filepath.Join(t.TempDir(), "stop"), done: make(chan struct{}), answers: map[string]int{}}
	script := fmt.Sprintf(`echo $$ > %s/cgroup.procs || exit 1
while [ ! -e %s ]; do
  if out=$(busybox timeout 3 busybox wget -q -O - %s 2>&1); then echo "ok $out"; else echo "fail $out"; fi
  busybox usleep 20000
done`, n.cgroup, l.stop, url)
	l.cmd = exec.Command("nsenter", "--net=/run/netns/"+n.ns.Name, "sh", "-c", script)
	out, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	l.cmd.Stderr = os.Stderr
	if err := l.cmd.Start(); err != nil {
		t.Fatalf("start the load client: %v", err)
	}
	go l.read(bufio.NewScanner(out))
	t.Cleanup(l.end)
	waitFor(t, "the load client's first answers", 30*time.Second, func() bool {
		ok, _ := l.counts()
		return ok >= 5
	})
	return l
}

func (l *load) read(sc *bufio.Scanner) {
	defer close(l.done)
	for sc.Scan() {
		res, body, _ := strings.Cut(sc.Text(), " ")
		l.mu.Lock()
		if res == "ok" {
			l.ok++
			l.answers[body]++
		} else {
			l.fails = append(l.fails, time.Now())
			if len(l.samples) < 5 {
				l.samples = append(l.samples, time.Now().Format("15:04:05.000")+" "+body)
			}
		}
		l.mu.Unlock()
	}
	_ = l.cmd.Wait()
}

// counts is the answers and failures so far.
func (l *load) counts() (ok, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, len(l.fails)
}

// failsAfter is the number of failures after t0.
func (l *load) failsAfter(t0 time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := 0
	for _, f := range l.fails {
		if f.After(t0) {
			k++
		}
	}
	return k
}

// end stops the loop (after its current request) and waits; it is
// idempotent.
func (l *load) end() {
	select {
	case <-l.done:
		return
	default:
	}
	_ = os.WriteFile(l.stop, nil, 0o644)
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(l.cmd.Process.Pid, syscall.SIGKILL)
		<-l.done
	}
}

// report is a one-line summary: answers, failures, first failure samples.
func (l *load) report() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d answers from %d backends, %d failures %v", l.ok, len(l.answers), len(l.fails), l.samples)
}
