package e2e

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weirnet/weir/control/status"
)

// checkStatus: `weir status`'s report of the fresh cluster has no problem.
func checkStatus(e *env, _ string, _ int64) error {
	r, err := status.Collect(e.ctx, e.api, false)
	if err != nil {
		return err
	}
	var b strings.Builder
	_ = r.Print(&b)
	if n := r.Problems(); n > 0 || len(r.Members) != 3 || len(r.Nodes) != 3 {
		return fmt.Errorf("status: %d problems, %d members, %d nodes:\n%s", n, len(r.Members), len(r.Nodes), b.String())
	}
	e.logf("status:\n%s", b.String())
	return nil
}

func wget(url string) []string {
	return []string{"busybox", "wget", "-q", "-O", "-", url}
}

// retry runs fn up to 5 times a second apart (the first packets of a new
// path may race an endpoint update); it returns the last error.
func retry(fn func() error) error {
	var err error
	for i := 0; i < 5; i++ {
		if err = fn(); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return err
}

// checkPodToPod: every demo pod reaches every other by pod IP, and at
// least one pair is on different nodes.
func checkPodToPod(e *env, _ string, _ int64) error {
	pods := e.readyPods()
	cross := 0
	for _, a := range pods {
		pid, err := e.podPID(a)
		if err != nil {
			return err
		}
		for _, b := range pods {
			if a.Name == b.Name {
				continue
			}
			err := retry(func() error {
				out, err := e.lc.InPod(e.ctx, pid, wget(fmt.Sprintf("http://%s:8080/", b.IP))...)
				if err != nil || !strings.Contains(out, b.Name) {
					return fmt.Errorf("pod %s (%s) -> pod %s (%s, %s:8080): %v %q", a.Name, a.Node, b.Name, b.Node, b.IP, err, out)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if a.Node != b.Node {
				cross++
			}
		}
	}
	if cross == 0 {
		return fmt.Errorf("no two demo pods on different nodes: %+v", pods)
	}
	e.logf("%d pod-to-pod paths, %d across nodes", len(pods)*(len(pods)-1), cross)
	return nil
}

// checkClusterIP: the demo ClusterIP answers from every node and every
// pod, and from each node every backend answers.
func checkClusterIP(e *env, ip string, _ int64) error {
	want := len(e.readyPods())
	for _, n := range e.lc.Nodes() {
		seen := map[string]bool{}
		for i := 0; i < 60 && len(seen) < want; i++ {
			out, err := e.lc.InNode(e.ctx, n.Name, wget("http://"+ip+"/")...)
			if err != nil {
				return fmt.Errorf("node %s -> %s: %v %q", n.Name, ip, err, out)
			}
			seen[out] = true
		}
		if len(seen) < want {
			return fmt.Errorf("node %s -> %s: only %v of %d backends answered in 60 requests", n.Name, ip, seen, want)
		}
	}
	for _, p := range e.readyPods() {
		pid, err := e.podPID(p)
		if err != nil {
			return err
		}
		if err := retry(func() error {
			out, err := e.lc.InPod(e.ctx, pid, wget("http://"+ip+"/")...)
			if err != nil || !strings.HasPrefix(out, demo+"-") {
				return fmt.Errorf("pod %s -> %s: %v %q", p.Name, ip, err, out)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// checkDNS: from every pod, the demo answers by its short and full names
// and kubernetes.default resolves.
func checkDNS(e *env, _ string, _ int64) error {
	for _, p := range e.readyPods() {
		pid, err := e.podPID(p)
		if err != nil {
			return err
		}
		for _, name := range []string{demo, demo + ".default.svc.cluster.local"} {
			if err := retry(func() error {
				out, err := e.lc.InPod(e.ctx, pid, wget("http://"+name+"/")...)
				if err != nil || !strings.HasPrefix(out, demo+"-") {
					return fmt.Errorf("pod %s -> http://%s/: %v %q", p.Name, name, err, out)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		out, err := e.lc.InPod(e.ctx, pid, "busybox", "nslookup", "kubernetes.default.svc.cluster.local")
		if err != nil || !strings.Contains(out, "10.96.0.1") {
			return fmt.Errorf("pod %s: nslookup kubernetes.default: %v %q", p.Name, err, out)
		}
	}
	return nil
}

// checkAPIFromPods: every pod reaches the API at kubernetes.default.svc:443
// (the members' addresses, kept in the kubernetes service's slice, through
// the eBPF load balancer), and finds an HTTPS server there: Go's answer to
// plain HTTP on an HTTPS port. A real TLS request is not possible from
// the test image: busybox's own TLS (there is no openssl in pods) sends no
// signature_algorithms, which Go refuses (SHA-1 is off in TLS 1.2).
func checkAPIFromPods(e *env, _ string, _ int64) error {
	for _, p := range e.readyPods() {
		pid, err := e.podPID(p)
		if err != nil {
			return err
		}
		if err := retry(func() error {
			// InPod joins its arguments into a shell command line.
			out, err := e.lc.InPod(e.ctx, pid, "busybox", "sh", "-c",
				`'printf "GET /version HTTP/1.0\r\n\r\n" | busybox nc -w 3 kubernetes.default.svc 443'`)
			if err != nil || !strings.Contains(out, "Client sent an HTTP request to an HTTPS server") {
				return fmt.Errorf("pod %s -> kubernetes.default /version: %v %q", p.Name, err, out)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// checkNodePort: from the underlay (outside every node), the demo answers
// on the NodePort of every node, also nodes without a demo pod.
func checkNodePort(e *env, _ string, port int64) error {
	for _, n := range e.lc.Nodes() {
		url := fmt.Sprintf("http://%s:%d/", n.IP, port)
		if err := retry(func() error {
			out, err := e.lc.InUnderlay(e.ctx, wget(url)...)
			if err != nil || !strings.HasPrefix(out, demo+"-") {
				return fmt.Errorf("underlay -> %s: %v %q", url, err, out)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

var errNoTraffic = errors.New("the load client got no answer")
