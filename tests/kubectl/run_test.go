package kubectl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// kc runs the real kubectl against the cluster: its kubeconfig, a HOME
// and cache of its own, a bounded time per command, -v=6 so that its
// requests and the server's statuses are in its log.
type kc struct {
	bin        string // kubectl
	kubeconfig string
	home       string // HOME and scratch files
}

// call is one kubectl invocation's options.
type call struct {
	stdin   string
	env     []string
	timeout time.Duration // default 30 s
	// allow lists the error answers the command expects, as
	// "METHOD STATUS" ("GET 404"); any other status >= 400 fails the check.
	allow []string
	// fail: the command is expected to exit non-zero.
	fail bool
}

// result is what one kubectl did.
type result struct {
	stdout, stderr string // stderr without kubectl's -v=6 log lines
	code           int
	reqs           []request
}

// request is one request kubectl logged at -v=6 with the server's status
// (0 when the request got no answer).
type request struct {
	method, url string
	status      int
}

func (r request) String() string {
	u := r.url
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.Index(u[i+3:], "/"); j >= 0 {
			u = u[i+3+j:]
		}
	}
	return fmt.Sprintf("%s %s %d", r.method, u, r.status)
}

// klogLine is a klog header: "I1207 05:40:03.277454    7676 file.go:560] msg".
var klogLine = regexp.MustCompile(`^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^ ]+:\d+\] (.*)$`)

// roundTrip is client-go's -v=6 request line: "GET https://... 200 OK in 8 milliseconds".
var roundTrip = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) (?:(\d{3}) .*)?in \d+ milliseconds$`)

// splitLog separates kubectl's own stderr from its klog lines and
// collects the requests they name.
func splitLog(stderr string) (string, []request) {
	var own strings.Builder
	var reqs []request
	for _, line := range strings.SplitAfter(stderr, "\n") {
		m := klogLine.FindStringSubmatch(strings.TrimRight(line, "\n"))
		if m == nil {
			own.WriteString(line)
			continue
		}
		if rt := roundTrip.FindStringSubmatch(strings.TrimSpace(m[1])); rt != nil {
			st, _ := strconv.Atoi(rt[3])
			reqs = append(reqs, request{method: rt[1], url: rt[2], status: st})
		}
	}
	return own.String(), reqs
}

func (k *kc) args(args []string) []string {
	return append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", filepath.Join(k.home, "cache"), "-v=6"}, args...)
}

func (k *kc) environ(extra []string) []string {
	return append(append(os.Environ(), "HOME="+k.home, "KUBECONFIG="+k.kubeconfig), extra...)
}

// run runs kubectl with args and checks its exit status and the server's
// answers; it returns the result for the caller's checks of the output.
func (k *kc) run(t *testing.T, c call, args ...string) result {
	t.Helper()
	if c.timeout == 0 {
		c.timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, k.args(args)...)
	cmd.Env = k.environ(c.env)
	cmd.Dir = k.home
	cmd.Stdin = strings.NewReader(c.stdin)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), code: exitCode(err)}
	res.stderr, res.reqs = splitLog(stderr.String())
	k.log(t, args, res, time.Since(start))
	if ctx.Err() != nil {
		t.Errorf("kubectl %s: timed out after %v", strings.Join(args, " "), c.timeout)
		return res
	}
	switch {
	case c.fail && res.code == 0:
		t.Errorf("kubectl %s: exit 0, want a failure", strings.Join(args, " "))
	case !c.fail && res.code != 0:
		t.Errorf("kubectl %s: exit %d: %s", strings.Join(args, " "), res.code, res.stderr)
	}
	checkAnswers(t, args, res.reqs, c.allow)
	return res
}

// ok runs kubectl, expecting success, and returns its stdout.
func (k *kc) ok(t *testing.T, args ...string) string {
	t.Helper()
	return k.run(t, call{}, args...).stdout
}

// checkAnswers fails t for every error status that allow does not name.
func checkAnswers(t *testing.T, args []string, reqs []request, allow []string) {
	t.Helper()
	for _, r := range reqs {
		if r.status < 400 && r.status != 0 {
			continue
		}
		if !allowed(r, allow) {
			t.Errorf("kubectl %s: unexpected answer %s", strings.Join(args, " "), r)
		}
	}
}

func allowed(r request, allow []string) bool {
	for _, a := range allow {
		if a == r.method+" "+strconv.Itoa(r.status) {
			return true
		}
	}
	return false
}

func (k *kc) log(t *testing.T, args []string, res result, took time.Duration) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$ kubectl %s   (exit %d, %v)\n", quoteArgs(args), res.code, took.Round(time.Millisecond))
	if res.stdout != "" {
		b.WriteString(indent(res.stdout))
	}
	if res.stderr != "" {
		b.WriteString("  [stderr]\n" + indent(res.stderr))
	}
	var rs []string
	for _, r := range res.reqs {
		rs = append(rs, r.String())
	}
	if len(rs) > 0 {
		b.WriteString("  [requests] " + strings.Join(rs, "; ") + "\n")
	}
	t.Log(b.String())
}

func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " '\"{}$*") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

func indent(s string) string {
	const max = 4000
	if len(s) > max {
		s = s[:max] + "\n... (" + strconv.Itoa(len(s)-max) + " more bytes)"
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  | " + strings.Join(lines, "\n  | ") + "\n"
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// bg is a kubectl that keeps running (get -w, logs -f, port-forward):
// its stdout lines arrive on a channel; stop ends it and returns what it
// wrote.
type bg struct {
	k      *kc
	args   []string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	lines  chan string
	stderr bytes.Buffer
	mu     sync.Mutex
	out    strings.Builder
	done   chan struct{}
	start  time.Time
}

// start runs kubectl in the background for at most timeout.
func (k *kc) start(t *testing.T, timeout time.Duration, args ...string) *bg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	b := &bg{k: k, args: args, cancel: cancel, lines: make(chan string, 1000), done: make(chan struct{}), start: time.Now()}
	b.cmd = exec.CommandContext(ctx, k.bin, k.args(args)...)
	b.cmd.Env = k.environ(nil)
	b.cmd.Dir = k.home
	b.cmd.Stderr = &b.stderr
	b.cmd.WaitDelay = 5 * time.Second
	pipe, err := b.cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start kubectl %s: %v", quoteArgs(args), err)
	}
	go func() {
		defer close(b.done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			b.mu.Lock()
			b.out.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
			select {
			case b.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
	}()
	t.Cleanup(func() { b.stop(t) })
	return b
}

// waitLine waits up to d for a stdout line that match accepts.
func (b *bg) waitLine(t *testing.T, d time.Duration, what string, match func(string) bool) (string, bool) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case l := <-b.lines:
			if match(l) {
				return l, true
			}
		case <-b.done:
			t.Errorf("kubectl %s ended before %s", quoteArgs(b.args), what)
			return "", false
		case <-timer.C:
			t.Errorf("kubectl %s: no %s within %v", quoteArgs(b.args), what, d)
			return "", false
		}
	}
}

// stop ends the command (idempotent), logs it and checks its requests.
func (b *bg) stop(t *testing.T) result {
	t.Helper()
	if b.cmd == nil {
		return result{}
	}
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Signal(os.Interrupt)
	}
	waited := make(chan error, 1)
	go func() { <-b.done; waited <- b.cmd.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-time.After(5 * time.Second):
		b.cancel()
		err = <-waited
	}
	b.cancel()
	b.mu.Lock()
	res := result{stdout: b.out.String(), code: exitCode(err)}
	b.mu.Unlock()
	res.stderr, res.reqs = splitLog(b.stderr.String())
	b.k.log(t, append([]string{"(background)"}, b.args...), res, time.Since(b.start))
	checkAnswers(t, b.args, res.reqs, nil)
	b.cmd = nil
	return res
}
