package member

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/weirnet/weir/control/api"
)

// ServerOptions harden the API's HTTP server and turn on its audit log.
// Fields left zero take the defaults below.
type ServerOptions struct {
	// ReadHeaderTimeout bounds the TLS handshake and the request headers;
	// ReadTimeout the whole request read, body included; WriteTimeout the
	// answer; IdleTimeout a keep-alive connection between requests.
	// Long-running requests (watches, exec, attach, port-forward, logs
	// that follow) are exempt from ReadTimeout and WriteTimeout once their
	// headers are in: a watch bounds each event's write itself.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConnections caps open API connections (default: three quarters
	// of the process's file limit, at most 10,000); MaxConnectionsPerHost
	// caps those from one client address (default MaxConnections/4).
	// Over the total cap, the oldest connection that has not yet completed
	// a request makes room; over the per-host cap, the new connection is
	// closed.
	MaxConnections, MaxConnectionsPerHost int
	// InFlight caps the requests served at once (429 beyond).
	InFlight api.InFlightLimits
	// AuditLogPath turns on the audit log (JSON lines, rotated when a file
	// would exceed AuditMaxBytes, AuditBackups old files kept);
	// AuditPolicyFile is an audit.k8s.io/v1 Policy (default
	// api.DefaultAuditPolicy).
	AuditLogPath, AuditPolicyFile string
	AuditMaxBytes                 int64
	AuditBackups                  int
}

// Defaults of ServerOptions.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 60 * time.Second
	defaultWriteTimeout      = 60 * time.Second
	defaultIdleTimeout       = 90 * time.Second
	maxHeaderBytes           = 1 << 20
	maxConnectionsCap        = 10_000
)

func (o *ServerOptions) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, defaultReadHeaderTimeout)
	def(&o.ReadTimeout, defaultReadTimeout)
	def(&o.WriteTimeout, defaultWriteTimeout)
	def(&o.IdleTimeout, defaultIdleTimeout)
	if o.MaxConnections <= 0 {
		o.MaxConnections = maxConnectionsCap
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < 1<<40 {
			o.MaxConnections = min(maxConnectionsCap, max(16, int(rl.Cur)*3/4))
		}
	}
	if o.MaxConnectionsPerHost <= 0 {
		o.MaxConnectionsPerHost = max(16, o.MaxConnections/4)
	}
}

// auditConfig opens the audit log the options ask for (nil: none); the
// caller closes the returned closer.
func (o *ServerOptions) auditConfig() (*api.AuditConfig, io.Closer, error) {
	if o.AuditLogPath == "" {
		if o.AuditPolicyFile != "" {
			return nil, nil, errors.New("member: an audit policy file needs an audit log path (--audit-log-path)")
		}
		return nil, nil, nil
	}
	c := &api.AuditConfig{}
	if o.AuditPolicyFile != "" {
		p, err := api.LoadAuditPolicy(o.AuditPolicyFile)
		if err != nil {
			return nil, nil, err
		}
		c.Policy = p
	}
	f, err := api.OpenAuditFile(o.AuditLogPath, o.AuditMaxBytes, o.AuditBackups)
	if err != nil {
		return nil, nil, err
	}
	c.Writer = f
	return c, f, nil
}

// newHTTPServer is the API's HTTPS server: TLS from tc, the timeouts of
// o (with deadlines lifted for long-running requests and once a request
// body is read), connections counted by lim; serve it on lim.
func newHTTPServer(h http.Handler, tc *tls.Config, o ServerOptions, lim *connLimiter, logger *slog.Logger) *http.Server {
	o.setDefaults()
	return &http.Server{
		Handler:           requestDeadlines(h),
		TLSConfig:         tc,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         lim.connState,
		// TLS handshake failures (scanners, clients that do not trust the
		// CA) are logged at debug level, not on the server's stderr.
		ErrorLog: log.New(slogWriter{logger}, "", 0),
	}
}

// newConnLimiter wraps ln with the connection caps of o.
func newConnLimiter(ln net.Listener, o ServerOptions) *connLimiter {
	o.setDefaults()
	return &connLimiter{Listener: ln, max: o.MaxConnections, perHost: o.MaxConnectionsPerHost,
		hosts: map[string]int{}, fresh: map[*limitedConn]struct{}{}}
}

// requestDeadlines adjusts the connection's deadlines per request. A
// long-running request (api.IsLongRunning) has both lifted: a watch
// bounds each write itself, exec and attach outlive the request. Any
// other request keeps the server's write deadline, and its read deadline
// (ReadTimeout from the first byte) until its body has been read: a
// client that stalls mid-body is cut, a handler that takes its time
// after reading the body is not (Go's server reads ahead on the
// connection, and a read deadline hit there would cancel the request).
func requestDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		switch {
		case api.IsLongRunning(r):
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		case r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0:
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		default:
			_ = rc.SetReadDeadline(time.Time{})
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body has been read.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		if errors.Is(err, io.EOF) {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

// connLimiter is a listener that caps open connections, in total and
// per client address. Connections that have not completed a request yet
// ("fresh": a TLS handshake or request in progress, or nothing sent at
// all) are the ones sacrificed when the total cap is reached, oldest
// first; a client that has been answered keeps its connection.
type connLimiter struct {
	net.Listener
	max, perHost int

	mu    sync.Mutex
	open  int
	hosts map[string]int
	fresh map[*limitedConn]struct{}
	seq   uint64
}

type limitedConn struct {
	net.Conn
	lim  *connLimiter
	host string
	seq  uint64 // accept order
	once sync.Once
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil {
			host = c.RemoteAddr().String()
		}
		l.mu.Lock()
		if l.hosts[host] >= l.perHost {
			l.mu.Unlock()
			c.Close()
			continue
		}
		var victim *limitedConn
		if l.open >= l.max {
			for fc := range l.fresh {
				if victim == nil || fc.seq < victim.seq {
					victim = fc
				}
			}
			if victim == nil { // every connection has been answered: refuse
				l.mu.Unlock()
				c.Close()
				continue
			}
			l.forget(victim)
		}
		l.seq++
		lc := &limitedConn{Conn: c, lim: l, host: host, seq: l.seq}
		l.open++
		l.hosts[host]++
		l.fresh[lc] = struct{}{}
		l.mu.Unlock()
		if victim != nil {
			victim.Conn.Close()
		}
		return lc, nil
	}
}

// forget drops c from the counts; l.mu held.
func (l *connLimiter) forget(c *limitedConn) {
	c.once.Do(func() {
		l.open--
		if l.hosts[c.host]--; l.hosts[c.host] <= 0 {
			delete(l.hosts, c.host)
		}
		delete(l.fresh, c)
	})
}

func (c *limitedConn) Close() error {
	c.lim.mu.Lock()
	c.lim.forget(c)
	c.lim.mu.Unlock()
	return c.Conn.Close()
}

// connState marks a connection proven once it has been answered (idle
// between requests) or handed to an upgrade.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	if st != http.StateIdle && st != http.StateHijacked {
		return
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	delete(l.fresh, lc)
	l.mu.Unlock()
}

// slogWriter turns the http.Server's error log into debug records.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("API server", "msg", string(p))
	return len(p), nil
}
