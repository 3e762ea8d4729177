package testclient

import (
	"net"
	"strings"
	"time"
)

// udp sends one datagram per attempt from a fresh socket, connected or
// not, and records the greeting and the address the reply came from.
func (c *client) udp(req Request) Result {
	var res Result
	for i := 0; i < req.N; i++ {
		backend, peer, errno, dur := udpOnce(req)
		res.Backends = append(res.Backends, backend)
		res.Peers = append(res.Peers, peer)
		res.Errnos = append(res.Errnos, errno)
		res.DurUs = append(res.DurUs, dur.Microseconds())
	}
	return res
}

func udpOnce(req Request) (backend, peer, errno string, dur time.Duration) {
	raddr, err := net.ResolveUDPAddr("udp", req.Addr)
	if err != nil {
		return "", "", "EINVAL", 0
	}
	buf := make([]byte, 512)
	start := time.Now()
	if req.Connected {
		conn, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			return "", "", errnoName(err), time.Since(start)
		}
		defer conn.Close()
		peer = peerName(conn)
		_ = conn.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := conn.Write([]byte("hello\n")); err != nil {
			return "", peer, errnoName(err), time.Since(start)
		}
		n, err := conn.Read(buf)
		if err != nil {
			return "", peer, errnoName(err), time.Since(start)
		}
		return strings.TrimSpace(string(buf[:n])), peer, "", time.Since(start)
	}
	network := "udp4"
	if raddr.IP.To4() == nil {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return "", "", errnoName(err), 0
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := conn.WriteToUDP([]byte("hello\n"), raddr); err != nil {
		return "", "", errnoName(err), time.Since(start)
	}
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		return "", "", errnoName(err), time.Since(start)
	}
	return strings.TrimSpace(string(buf[:n])), from.String(), "", time.Since(start)
}
