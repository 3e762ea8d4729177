package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// loadClient requests http://<ClusterIP>/ in a loop from a node (its
// netns and cgroup, through its socket load balancer), about 10 times a
// second, and counts the answers by backend and the failures.
type loadClient struct {
	cancel context.CancelFunc
	cmd    *exec.Cmd
	done   chan struct{}

	mu       sync.Mutex
	ok, fail int
	lastFail string
	seq      []string // the backend of each answer, in order
}

func (e *env) startLoad(node, clusterIP string) (*loadClient, error) {
	ctx, cancel := context.WithCancel(e.ctx)
	loop := fmt.Sprintf(`'while true; do if r=$(busybox timeout 3 busybox wget -q -O - http://%s/ 2>&1); then echo "OK $r"; else echo "FAIL $r"; fi; busybox sleep 0.1; done'`, clusterIP)
	cmd, err := e.lc.NodeCommand(ctx, node, "busybox", "sh", "-c", loop)
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start the load client on %s: %w", node, err)
	}
	l := &loadClient{cancel: cancel, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l.record(sc.Text())
		}
	}()
	return l, nil
}

func (l *loadClient) record(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rest, ok := strings.CutPrefix(line, "OK "); ok {
		l.ok++
		l.seq = append(l.seq, strings.TrimSpace(rest))
		return
	}
	if strings.HasPrefix(line, "FAIL") {
		l.fail++
		l.lastFail = line
	}
}

// mark is a point in the client's history.
type mark struct{ ok, fail, n int }

func (l *loadClient) mark() mark {
	l.mu.Lock()
	defer l.mu.Unlock()
	return mark{l.ok, l.fail, len(l.seq)}
}

// since reports the answers and failures after m, the backends that
// answered, and the last failure.
func (l *loadClient) since(m mark) (ok, fail int, backends map[string]int, lastFail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	backends = map[string]int{}
	for _, b := range l.seq[m.n:] {
		backends[b]++
	}
	return l.ok - m.ok, l.fail - m.fail, backends, l.lastFail
}

// stop ends the loop and waits for it.
func (l *loadClient) stop() {
	l.cancel()
	_ = l.cmd.Wait()
	<-l.done
}
