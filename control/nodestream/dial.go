package nodestream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
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
	// Roots, when set, replaces CAPEM: the pool each new connection
	// verifies the server against (an agent's trust bundle follows a CA
	// rotation without a new client).
	Roots func() *x509.CertPool
	// OnServerCert, when set, sees the verified certificate chain of every
	// server the client connects to.
	OnServerCert func(chain []*x509.Certificate)
}

// Dial returns a client of the NodeStream service. The connection is
// established lazily and re-established by gRPC after failures.
func Dial(c DialConfig) (pb.NodeStreamClient, *grpc.ClientConn, error) {
	pool := x509.NewCertPool()
	if c.Roots == nil && !pool.AppendCertsFromPEM(c.CAPEM) {
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
	if c.OnServerCert != nil {
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.VerifiedChains) > 0 {
				c.OnServerCert(cs.VerifiedChains[0])
			}
			return nil
		}
	}
	target, opts, err := targetOf(c.Addr)
	if err != nil {
		return nil, nil, err
	}
	var creds credentials.TransportCredentials = credentials.NewTLS(tc)
	if c.Roots != nil {
		creds = &rootsCreds{TransportCredentials: creds, base: tc, roots: c.Roots}
	}
	opts = append(opts,
		grpc.WithTransportCredentials(creds),
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

// rootsCreds are TLS credentials whose client handshakes verify the
// server against the pool roots returns at that moment.
type rootsCreds struct {
	credentials.TransportCredentials
	base  *tls.Config
	roots func() *x509.CertPool
}

func (r *rootsCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	cfg := r.base.Clone()
	cfg.RootCAs = r.roots()
	return credentials.NewTLS(cfg).ClientHandshake(ctx, authority, raw)
}

func (r *rootsCreds) Clone() credentials.TransportCredentials {
	return &rootsCreds{TransportCredentials: r.TransportCredentials.Clone(), base: r.base.Clone(), roots: r.roots}
}

func (r *rootsCreds) OverrideServerName(name string) error { //nolint:staticcheck // part of the interface
	r.base.ServerName = name
	return r.TransportCredentials.OverrideServerName(name) //nolint:staticcheck
}
