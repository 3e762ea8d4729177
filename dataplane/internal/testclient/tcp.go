package testclient

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const ioTimeout = 3 * time.Second

type client struct {
	held []heldConn
	loop *loop
}

type heldConn struct {
	conn net.Conn
	rd   *bufio.Reader
}

func (c *client) tcp(req Request) Result {
	var res Result
	for i := 0; i < req.N; i++ {
		backend, peer, errno, dur := c.tcpOnce(req)
		res.Backends = append(res.Backends, backend)
		res.Peers = append(res.Peers, peer)
		res.Errnos = append(res.Errnos, errno)
		res.DurUs = append(res.DurUs, dur.Microseconds())
	}
	return res
}

// tcpOnce connects, reads the greeting and (unless held) closes.
func (c *client) tcpOnce(req Request) (backend, peer, errno string, dur time.Duration) {
	d := net.Dialer{Timeout: ioTimeout}
	if req.Bind != "" {
		la, err := net.ResolveTCPAddr("tcp", req.Bind)
		if err != nil {
			return "", "", "EINVAL", 0
		}
		d.LocalAddr = la
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
		}
	}
	start := time.Now()
	conn, err := d.Dial("tcp", req.Addr)
	dur = time.Since(start)
	if err != nil {
		return "", "", errnoName(err), dur
	}
	peer = peerName(conn)
	rd := bufio.NewReader(conn)
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	line, err := rd.ReadString('\n')
	if err != nil {
		conn.Close()
		return "", peer, errnoName(err), dur
	}
	_ = conn.SetDeadline(time.Time{})
	if req.Hold {
		c.held = append(c.held, heldConn{conn: conn, rd: rd})
	} else {
		if req.Linger0 {
			_ = conn.(*net.TCPConn).SetLinger(0)
		}
		conn.Close()
	}
	return strings.TrimSpace(line), peer, "", dur
}

// peerName asks the kernel (getpeername) rather than trusting Go's cache.
func peerName(conn net.Conn) string {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return ""
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return ""
	}
	var out string
	_ = rc.Control(func(fd uintptr) {
		sa, err := unix.Getpeername(int(fd))
		if err == nil {
			out = sockaddrString(sa)
		}
	})
	return out
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *unix.SockaddrInet6:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	}
	return ""
}

func errnoName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
		return errno.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "TIMEOUT"
	}
	return err.Error()
}

// ping checks every held connection still echoes.
func (c *client) ping() Result {
	var res Result
	for _, h := range c.held {
		_ = h.conn.SetDeadline(time.Now().Add(ioTimeout))
		_, err := h.conn.Write([]byte("ping\n"))
		if err == nil {
			var line string
			line, err = h.rd.ReadString('\n')
			if err == nil && line != "ping\n" {
				err = errors.New("bad echo " + line)
			}
		}
		if err != nil {
			res.Failed++
			res.Errnos = append(res.Errnos, errnoName(err))
		} else {
			res.OK++
		}
	}
	return res
}

func (c *client) closeHeld() {
	for _, h := range c.held {
		h.conn.Close()
	}
	c.held = nil
}
