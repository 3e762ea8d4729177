package dns

import (
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A socket bound to a wildcard address must answer from the address the
// query was sent to, or clients (and the socket load balancer's recvmsg
// hook) drop the reply. IP_PKTINFO / IPV6_RECVPKTINFO report that address;
// replyPktinfo turns it into the control message that sets the source.

func enablePktinfo(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("dns: pktinfo: %w", err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if e := unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1); e != nil {
			serr = e
		}
		if e := unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1); e == nil {
			serr = nil // an IPv6 socket: IPv4 pktinfo may be refused
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("dns: enable pktinfo on %s: %w", conn.LocalAddr(), err)
	}
	return nil
}

// replyPktinfo returns the control message to send a reply from the
// destination address reported in oob, or nil.
func replyPktinfo(oob []byte) []byte {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= unix.SizeofInet4Pktinfo:
			in := (*unix.Inet4Pktinfo)(unsafe.Pointer(&m.Data[0]))
			return cmsg(unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo, func(p unsafe.Pointer) {
				(*unix.Inet4Pktinfo)(p).Spec_dst = in.Addr
			})
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= unix.SizeofInet6Pktinfo:
			in := (*unix.Inet6Pktinfo)(unsafe.Pointer(&m.Data[0]))
			return cmsg(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo, func(p unsafe.Pointer) {
				(*unix.Inet6Pktinfo)(p).Addr = in.Addr
			})
		}
	}
	return nil
}

func cmsg(level, typ int32, size int, fill func(unsafe.Pointer)) []byte {
	b := make([]byte, unix.CmsgSpace(size))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(size))
	fill(unsafe.Pointer(&b[unix.CmsgLen(0)]))
	return b
}
