package nodestream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	pb "github.com/weirnet/weir/control/nodestream/nodestreampb"
)

// DialConfig is how an agent reaches a node-stream server.
type DialConfig struct {
	Addr       string // HOST:PORT of a control member's node-stream listener, or several, comma-separated (tried in order)
	Token      string // the cluster's node token
	CAPEM      []byte // the cluster CA certificate (PEM) that signed the server's certificate
	ServerName string // name to verify in the certificate; default: Addr's host
}

// Dial returns a client of the NodeStream service. The connection is
// established lazily and re-established by gRPC after failures.
func Dial(c DialConfig) (pb.NodeStreamClient, *grpc.ClientConn, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM) {
		return nil, nil, errors.New("nodestream: the CA file holds no PEM certificate: pass the cluster CA (ca.crt in a control member's data dir)")
	}
	if c.Token == "" {
		return nil, nil, errors.New("nodestream: empty node token: pass the cluster's node token file")
	}
	tc := &tls.Config{RootCAs: pool, ServerName: c.ServerName, MinVersion: tls.VersionTLS13}
	target, opts, err := targetOf(c.Addr)
	if err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient(target, append(opts,
		grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		grpc.WithPerRPCCredentials(tokenCreds(c.Token)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}),
	)...)
	if err != nil {
		return nil, nil, err
	}
	return pb.NewNodeStreamClient(conn), conn, nil
}
