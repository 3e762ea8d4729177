package nodestream

import (
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// targetOf turns Addr into a gRPC target. One HOST:PORT is dialed as is.
// A comma-separated list becomes a static resolver of every member's
// address (each verified against its own host name), so that the
// connection moves to the next member when one goes away.
func targetOf(addr string) (string, []grpc.DialOption, error) {
	if strings.TrimSpace(addr) == "" {
		return "", nil, fmt.Errorf("nodestream: no server address: pass a control member's HOST:PORT (or several, comma-separated)")
	}
	if !strings.Contains(addr, ",") {
		return addr, nil, nil
	}
	var addrs []resolver.Address
	for _, a := range strings.Split(addr, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return "", nil, fmt.Errorf("nodestream: server address %q: %w (want HOST:PORT[,HOST:PORT...])", a, err)
		}
		addrs = append(addrs, resolver.Address{Addr: a, ServerName: host})
	}
	if len(addrs) == 0 {
		return "", nil, fmt.Errorf("nodestream: no server address in %q", addr)
	}
	r := manual.NewBuilderWithScheme("weir-members")
	r.InitialState(resolver.State{Addresses: addrs})
	return r.Scheme() + ":///members", []grpc.DialOption{grpc.WithResolvers(r)}, nil
}
