package runtime

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// maxProbeOutput bounds what a probe reads of a response or of an exec's
// output (the message kept for the log and status), as the kubelet does.
const maxProbeOutput = 10 << 10

// checker runs one probe of one container instance: httpGet, tcpSocket
// and grpc dial the pod from the node's network namespace, exec runs in
// the container.
type checker struct {
	ctr   *corev1.Container
	podIP string
	netns string // node netns path; "" = the agent's own
	exec  *execer
}

// errProbe is a probe that could not be run as specified (bad port, no
// handler): its result is thrown away, as the kubelet does.
var errProbe = errors.New("runtime: probe")

// check runs the probe once within timeout. ok is the result, msg says
// why it failed; err means no result.
func (c *checker) check(ctx context.Context, p *corev1.Probe, timeout time.Duration) (ok bool, msg string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.Exec != nil:
		return c.exec.run(ctx, p.Exec.Command)
	case p.HTTPGet != nil:
		return c.httpGet(ctx, p.HTTPGet)
	case p.TCPSocket != nil:
		return c.tcpSocket(ctx, p.TCPSocket)
	case p.GRPC != nil:
		return c.grpcCheck(ctx, p.GRPC)
	}
	return false, "", fmt.Errorf("%w: container %s: the probe has no exec, httpGet, tcpSocket or grpc handler", errProbe, c.ctr.Name)
}

func (c *checker) hostPort(host string, port int) string {
	if host == "" {
		host = c.podIP
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (c *checker) tcpSocket(ctx context.Context, a *corev1.TCPSocketAction) (bool, string, error) {
	port, err := resolvePort(a.Port, c.ctr)
	if err != nil {
		return false, "", fmt.Errorf("%w: %w", errProbe, err)
	}
	addr := c.hostPort(a.Host, port)
	conn, err := dialIn(ctx, c.netns, "tcp", addr)
	if err != nil {
		return false, err.Error(), nil
	}
	conn.Close()
	return true, "", nil
}

func (c *checker) httpGet(ctx context.Context, a *corev1.HTTPGetAction) (bool, string, error) {
	req, err := c.newHTTPGet(ctx, a, "kube-probe/1.37")
	if err != nil {
		return false, "", err
	}
	return c.do(req)
}

// newHTTPGet is the request of an httpGet probe or hook: the port
// resolved, the pod IP unless host is given, the action's headers (a Host
// header sets the request's host).
func (c *checker) newHTTPGet(ctx context.Context, a *corev1.HTTPGetAction, userAgent string) (*http.Request, error) {
	port, err := resolvePort(a.Port, c.ctr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errProbe, err)
	}
	scheme := strings.ToLower(string(a.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := a.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := &url.URL{Scheme: scheme, Host: c.hostPort(a.Host, port)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String()+path, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: httpGet %s%s: %w", errProbe, u, path, err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	for _, h := range a.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	return req, nil
}

// do sends req and judges the response as a probe: 2xx and 3xx succeed.
func (c *checker) do(req *http.Request) (bool, string, error) {
	resp, err := c.send(req)
	if err != nil {
		return false, fmt.Sprintf("GET %s: %v", req.URL, err), nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProbeOutput))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return true, "", nil
	}
	return false, fmt.Sprintf("HTTP probe failed with statuscode: %d: %s", resp.StatusCode, strings.TrimSpace(string(body))), nil
}

// send sends req on a fresh connection dialed in the node netns; HTTPS is
// not verified, and redirects are followed on the same host only (a
// redirect elsewhere is the response), as the kubelet does. The caller
// closes the body.
func (c *checker) send(req *http.Request) (*http.Response, error) {
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialIn(ctx, c.netns, network, addr)
		}}
	client := &http.Client{Transport: tr, CheckRedirect: sameHostRedirects}
	return client.Do(req)
}

func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Host != via[0].URL.Host || len(via) >= 10 {
		return http.ErrUseLastResponse
	}
	return nil
}
