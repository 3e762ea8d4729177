package nodestream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Node identities, as Kubernetes names them: a node's client certificate
// has CN NodeUserPrefix+NAME and O NodesGroup.
const (
	NodeUserPrefix = "system:node:"
	NodesGroup     = "system:nodes"
)

// The control plane's identity towards node APIs (exec, logs,
// port-forward): a client certificate from the cluster CA that members
// issue themselves. Node APIs answer only it. The group gives it nothing
// in the API (RBAC may bind it).
const (
	KubeletClientUser  = "weir:apiserver-kubelet-client"
	KubeletClientGroup = "weir:kubelet-api-clients"
)

// identity is who an RPC comes from: a node (its verified client
// certificate) or, for RequestCertificate only, a bootstrap token's ID.
type identity struct {
	node      string // "" unless a node certificate was presented
	bootstrap string // bootstrap token ID, "" unless one was presented
}

type identityKey struct{}

func identityFrom(ctx context.Context) identity {
	id, _ := ctx.Value(identityKey{}).(identity)
	return id
}

// NodeOfCert is the node a verified client certificate names (CN
// system:node:NAME in O system:nodes); ok false for any other identity.
func NodeOfCert(c *x509.Certificate) (string, bool) {
	name, ok := strings.CutPrefix(c.Subject.CommonName, NodeUserPrefix)
	if !ok || name == "" {
		return "", false
	}
	for _, o := range c.Subject.Organization {
		if o == NodesGroup {
			return name, true
		}
	}
	return "", false
}

// authenticate finds the caller: a client certificate the cluster CA
// signed for a node (verified by the TLS handshake, see New), else, for
// RequestCertificate only, a valid bootstrap token. Anything else is
// Unauthenticated.
func (s *Server) authenticate(ctx context.Context, method string) (context.Context, error) {
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			if node, ok := NodeOfCert(ti.State.VerifiedChains[0][0]); ok {
				if err := s.checkRevoked(ctx, ti.State.VerifiedChains[0][0]); err != nil {
					return nil, err
				}
				return context.WithValue(ctx, identityKey{}, identity{node: node}), nil
			}
			s.met.authFailures.Inc()
			s.log.Warn("node stream: refused a certificate that names no node", "subject", ti.State.VerifiedChains[0][0].Subject.String(), "peer", p.Addr)
			return nil, status.Error(codes.PermissionDenied, "the client certificate names no node (want CN system:node:NAME, O system:nodes)")
		}
	}
	if method == pb.NodeStream_RequestCertificate_FullMethodName {
		md, _ := metadata.FromIncomingContext(ctx)
		for _, v := range md.Get("authorization") {
			if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
				id, err := s.checkBootstrapToken(ctx, strings.TrimSpace(tok))
				if err != nil {
					s.met.authFailures.Inc()
					s.log.Warn("node stream: bootstrap token refused", "error", err, "peer", peerAddr(ctx))
					return nil, status.Error(codes.Unauthenticated, err.Error())
				}
				return context.WithValue(ctx, identityKey{}, identity{bootstrap: id}), nil
			}
		}
	}
	s.met.authFailures.Inc()
	return nil, status.Error(codes.Unauthenticated, "no node credential: present the node's client certificate (a new node first gets one with a bootstrap token: weir agent --bootstrap-token-file)")
}

// checkRevoked refuses a revoked node certificate (Config.Revoked), and
// every certificate while the revocation list is not loaded.
func (s *Server) checkRevoked(ctx context.Context, c *x509.Certificate) error {
	if s.cfg.Revoked == nil {
		return nil
	}
	err := s.cfg.Revoked(c)
	if err == nil {
		return nil
	}
	s.met.authFailures.Inc()
	s.log.Warn("node stream: refused a revoked or unchecked certificate", "serial", c.SerialNumber.Text(16), "subject", c.Subject.String(), "error", err, "peer", peerAddr(ctx))
	return status.Error(codes.Unauthenticated, err.Error())
}

func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// refuse logs and counts a request (what: register, subscribe, pod
// status...) that acted for a node other than the caller's, and is the
// PermissionDenied the caller gets; why says what it touched.
func (s *Server) refuse(ctx context.Context, what, why string) error {
	id := identityFrom(ctx)
	s.met.refused.WithLabelValues(what).Inc()
	s.log.Warn("node stream: refused a request for another node", "what", what, "caller", NodeUserPrefix+id.node, "why", why, "peer", peerAddr(ctx))
	return status.Errorf(codes.PermissionDenied, "%s refused: node %q may act only for itself: %s", what, id.node, why)
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	if leaf := verifiedLeaf(ctx); leaf != nil && s.cfg.Revoked != nil && s.cfg.RevocationsAdded != nil {
		// A stream outlives its authentication: it ends when its
		// certificate is revoked.
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		stopped := make(chan struct{})
		defer func() { cancel(nil); <-stopped }()
		go func() {
			defer close(stopped)
			for {
				added := s.cfg.RevocationsAdded()
				if err := s.checkRevoked(ctx, leaf); err != nil {
					cancel(err)
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-added:
				}
			}
		}()
		err := h(srv, &revocableStream{identityStream{ServerStream: ss, ctx: ctx}})
		if cause := context.Cause(ctx); status.Code(cause) == codes.Unauthenticated {
			return cause
		}
		return err
	}
	return h(srv, &identityStream{ServerStream: ss, ctx: ctx})
}

// verifiedLeaf is the node certificate the handshake verified, if any.
func verifiedLeaf(ctx context.Context) *x509.Certificate {
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			return ti.State.VerifiedChains[0][0]
		}
	}
	return nil
}

type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }

// revocableStream is an identityStream whose receives end when its
// context does (a revoked certificate), although gRPC's own receive
// blocks until the RPC ends: that one is left to finish once the handler
// has returned.
type revocableStream struct{ identityStream }

func (s *revocableStream) RecvMsg(m any) error {
	done := make(chan error, 1)
	go func() { done <- s.ServerStream.RecvMsg(m) }()
	select {
	case err := <-done:
		return err
	case <-s.ctx.Done():
		return context.Cause(s.ctx)
	}
}

// tokenCreds sends a bootstrap token with RequestCertificate (over TLS only).
type tokenCreds string

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

func (tokenCreds) RequireTransportSecurity() bool { return true }

// serverTLS is cfg's TLS config asking for a client certificate the
// cluster CA signed (optional in the handshake: RequestCertificate may
// come with a bootstrap token instead), verified against the trust
// bundle of the CA in force at each handshake (both CAs during a
// rotation).
func serverTLS(base *tls.Config, ca func() *CA) *tls.Config {
	tc := base.Clone()
	tc.ClientCAs, tc.ClientAuth = ca().Pool(), tls.VerifyClientCertIfGiven
	tc.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.ClientCAs, c.ClientAuth = ca().Pool(), tls.VerifyClientCertIfGiven
		return c, nil
	}
	return tc
}
