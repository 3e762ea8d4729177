package nodestream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// DialConfig is how an agent reaches a node-stream server.
type DialConfig struct {
	Addr       string // HOST:PORT of a control member's node-stream listener, or several, comma-separated (tried in order)
	CAPEM      []byte // the cluster CA certificate (PEM) that signed the server's certificate
	ServerName string // name to verify in the certificate; default: Addr's host
	// Certificate returns the node's client certificate for each new
	// connection (nil or an empty certificate: none). Every RPC but
	// RequestCertificate needs one.
	Certificate func() (*tls.Certificate, error)
	// BootstrapToken, when set, is sent with every RPC; the server accepts
	// it for RequestCertificate only.
	BootstrapToken string
}

// Dial returns a client of the NodeStream service. The connection is
// established lazily and re-established by gRPC after failures.
func Dial(c DialConfig) (pb.NodeStreamClient, *grpc.ClientConn, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM) {
		return nil, nil, errors.New("nodestream: the CA file holds no PEM certificate: pass the cluster CA (ca.crt in a control member's data dir)")
	}
	if c.Certificate == nil && c.BootstrapToken == "" {
		return nil, nil, errors.New("nodestream: no node credential: give a client certificate or a bootstrap token")
	}
	tc := &tls.Config{RootCAs: pool, ServerName: c.ServerName, MinVersion: tls.VersionTLS13}
	if c.Certificate != nil {
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, err := c.Certificate()
			if cert == nil || err != nil {
				return &tls.Certificate{}, err
			}
			return cert, nil
		}
	}
	target, opts, err := targetOf(c.Addr)
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts,
		grpc.WithTransportCredentials(credentials.NewTLS(tc)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}))
	if c.BootstrapToken != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(tokenCreds(c.BootstrapToken)))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, nil, err
	}
	return pb.NewNodeStreamClient(conn), conn, nil
}
