package nodestream

import (
	"net"
	"sync"
	"time"
)

// A CA rotation (Config.CurrentCA returning another CA) closes every
// agent connection, so that agents reconnect, meet a server certificate
// of the new CA and renew their own (the agent renews when a server's
// certificate is from another CA than its own). Streams resume from the
// versions the agents hold, as after a member restart.

// caCheckInterval is how often Serve looks for a new CA.
const caCheckInterval = time.Second

// trackedListener remembers the open connections it accepted.
type trackedListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

type trackedConn struct {
	net.Conn
	l    *trackedListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// closeAll closes the open connections and says how many.
func (l *trackedListener) closeAll() int {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	return len(conns)
}

// watchCA closes l's connections whenever the CA in force changes, until
// stop is closed.
func (s *Server) watchCA(l *trackedListener, stop <-chan struct{}) {
	last := s.ca()
	t := time.NewTicker(caCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if cur := s.ca(); cur != last && !cur.Equal(last) {
			last = cur
			n := l.closeAll()
			s.log.Info("cluster CA changed: closed the agents' connections so that they reconnect and renew", "ca", cur.Subject(), "rotating", cur.Rotating(), "connections", n)
		} else {
			last = cur
		}
	}
}
