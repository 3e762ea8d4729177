package nodestream

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/store"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// Bootstrap tokens are Kubernetes' (kubeadm's): "ID.SECRET" (6 and 16
// characters of [a-z0-9]) kept as a Secret of type
// bootstrap.kubernetes.io/token named bootstrap-token-ID in kube-system,
// with an optional expiration and usage flags. Deleting the Secret
// revokes the token.
const (
	BootstrapTokenNamespace = "kube-system"
	BootstrapTokenPrefix    = "bootstrap-token-"
	SecretTypeBootstrap     = corev1.SecretType("bootstrap.kubernetes.io/token")
	// BootstrapTokenGroup is the auth-extra-groups weir writes (as kubeadm's
	// default node token does).
	BootstrapTokenGroup = "system:bootstrappers:weir:default-node-token"
)

var bootstrapTokenRE = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)

// NewBootstrapToken is a fresh random token "ID.SECRET".
func NewBootstrapToken() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 22)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:6]) + "." + string(b[6:])
}

// BootstrapTokenSecret is the Secret that makes token valid for joining
// nodes until now+ttl (ttl 0: it never expires; negative: already expired).
func BootstrapTokenSecret(token string, ttl time.Duration, description string) (*corev1.Secret, error) {
	m := bootstrapTokenRE.FindStringSubmatch(token)
	if m == nil {
		return nil, fmt.Errorf("bootstrap token %q: want ID.SECRET, 6 and 16 characters of [a-z0-9]", token)
	}
	sec := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: BootstrapTokenPrefix + m[1], Namespace: BootstrapTokenNamespace},
		Type:       SecretTypeBootstrap,
		StringData: map[string]string{
			"token-id": m[1], "token-secret": m[2],
			"usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
			"auth-extra-groups": BootstrapTokenGroup,
		},
	}
	if description != "" {
		sec.StringData["description"] = description
	}
	if ttl != 0 {
		sec.StringData["expiration"] = time.Now().Add(ttl).UTC().Format(time.RFC3339)
	}
	return sec, nil
}

// checkBootstrapToken validates tok against its Secret and returns its ID.
func (s *Server) checkBootstrapToken(ctx context.Context, tok string) (string, error) {
	m := bootstrapTokenRE.FindStringSubmatch(tok)
	if m == nil {
		return "", errors.New("not a bootstrap token (want ID.SECRET): pass a token from `weir token create`")
	}
	id := m[1]
	o, err := s.cfg.Store.Get(ctx, store.Key{Resource: "secrets", Namespace: BootstrapTokenNamespace, Name: BootstrapTokenPrefix + id}, store.ReadOptions{})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("bootstrap token %s is not known (deleted or never created): create one with `weir token create`", id)
		}
		return "", fmt.Errorf("read bootstrap token %s: %w", id, err)
	}
	var sec corev1.Secret
	if err := json.Unmarshal(o.Value, &sec); err != nil {
		return "", fmt.Errorf("decode bootstrap token %s: %w", id, err)
	}
	if sec.Type != SecretTypeBootstrap || string(sec.Data["token-id"]) != id ||
		subtle.ConstantTimeCompare(sec.Data["token-secret"], []byte(m[2])) != 1 {
		return "", fmt.Errorf("bootstrap token %s: wrong secret", id)
	}
	if string(sec.Data["usage-bootstrap-authentication"]) != "true" {
		return "", fmt.Errorf("bootstrap token %s may not authenticate (usage-bootstrap-authentication is not true)", id)
	}
	if exp := string(sec.Data["expiration"]); exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil || time.Now().After(t) {
			return "", fmt.Errorf("bootstrap token %s expired at %s: create a new one with `weir token create`", id, exp)
		}
	}
	return id, nil
}

// identityKeyOf is a node name's binding to the public key of the
// credential that owns it: the first certificate request for a name binds
// it; while the Node exists, only that key (or the node itself, renewing
// with its current certificate) gets certificates for the name.
func identityKeyOf(node string) store.Key { return store.Key{Resource: "_nodeidentity", Name: node} }

type identityBinding struct {
	KeySHA256 string    `json:"keySHA256"` // of the SubjectPublicKeyInfo
	Via       string    `json:"via"`       // "bootstrap-token:ID" or "renewal"
	Bound     time.Time `json:"bound"`
}

// RequestCertificate signs a node's client certificate from its CSR, as
// Kubernetes' kube-apiserver-client-kubelet signer does for kubelet TLS
// bootstrapping; see the proto for who may ask.
func (s *Server) RequestCertificate(ctx context.Context, req *pb.CertificateRequest) (*pb.CertificateResponse, error) {
	id := identityFrom(ctx)
	if id.node != "" && id.node != req.NodeName {
		return nil, s.refuse(ctx, "certificate request", fmt.Sprintf("it asked for a certificate of node %q", req.NodeName))
	}
	if err := validNodeName(req.NodeName); err != nil {
		return nil, err
	}
	csr, err := parseNodeCSR(req.NodeName, req.CsrPem)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sum := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	b := identityBinding{KeySHA256: hex.EncodeToString(sum[:]), Via: "renewal", Bound: time.Now().UTC()}
	if id.node == "" {
		b.Via = "bootstrap-token:" + id.bootstrap
	}
	if err := s.bind(ctx, req.NodeName, b, id.node != ""); err != nil {
		return nil, err
	}
	certPEM, notAfter, err := s.ca().signNodeClient(csr, s.cfg.ClientCertTTL)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	// Recorded before it is handed out, so that deleting the Node (or
	// `weir certs revoke --node`) revokes it.
	blk, _ := pem.Decode(certPEM)
	issued, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := revoke.RecordNodeCert(ctx, s.cfg.Store, req.NodeName, issued); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	s.met.certs.Inc()
	s.log.Info("node client certificate issued", "node", req.NodeName, "via", b.Via, "serial", revoke.SerialOf(issued), "expires", notAfter.Format(time.RFC3339), "peer", peerAddr(ctx))
	return &pb.CertificateResponse{CertPem: certPEM, CaPem: s.ca().BundlePEM()}, nil
}

// bind records b as the owner of node. A renewal (the node's own
// certificate) always rebinds; a bootstrap binds a name nobody owns, one
// owned by the same key, or one whose Node no longer exists (deleted: the
// name is free again), and refuses any other.
func (s *Server) bind(ctx context.Context, node string, b identityBinding, renewal bool) error {
	key := identityKeyOf(node)
	val, _ := json.Marshal(b)
	for i := 0; i < maxConflicts; i++ {
		cur, err := s.cfg.Store.Get(ctx, key, store.ReadOptions{})
		conds := []store.Cond{{Kind: store.MustNotExist, Key: key}}
		switch {
		case err == nil:
			var old identityBinding
			_ = json.Unmarshal(cur.Value, &old)
			if old.KeySHA256 == b.KeySHA256 {
				return nil
			}
			conds[0] = store.Cond{Kind: store.RevisionIs, Key: key, Revision: cur.Revision}
			if !renewal {
				// Free again only once its Node is gone.
				conds = append(conds, store.Cond{Kind: store.MustNotExist, Key: nodeKey(node)})
			}
		case !errors.Is(err, store.ErrNotFound):
			return status.Errorf(codes.Unavailable, "read the identity of node %s: %v", node, err)
		}
		res, err := s.cfg.Store.Txn(ctx, store.Txn{ID: newUID(), Conds: conds, Ops: []store.Op{{Kind: store.Put, Key: key, Value: val}}})
		if err != nil {
			return status.Errorf(codes.Unavailable, "bind node %s: %v", node, err)
		}
		if res.Succeeded {
			return nil
		}
		if !renewal && cur.Revision != 0 {
			if _, err := s.cfg.Store.Get(ctx, nodeKey(node), store.ReadOptions{}); err == nil {
				s.met.refused.WithLabelValues("certificate request").Inc()
				s.log.Warn("node stream: refused a certificate for a node name another credential owns", "node", node, "via", b.Via, "peer", peerAddr(ctx))
				return status.Errorf(codes.PermissionDenied, "node name %q belongs to another node credential: pick another --node-name, or delete the Node (weir delete node %s) to free the name", node, node)
			}
		}
	}
	return status.Errorf(codes.Aborted, "bind node %s: too many concurrent changes, retry", node)
}

// validNodeName refuses names that are no DNS subdomain, and localhost,
// which would put a loopback name in the node's certificates.
func validNodeName(name string) error {
	if msgs := apivalidation.NameIsDNSSubdomain(name, false); len(msgs) > 0 {
		return status.Errorf(codes.InvalidArgument, "node_name %q: %s", name, msgs[0])
	}
	if name == "localhost" || len(name) > len(".localhost") && name[len(name)-len(".localhost"):] == ".localhost" {
		return status.Errorf(codes.InvalidArgument, "node_name %q: a node may not be named localhost", name)
	}
	return nil
}

// parseNodeCSR checks a node's certificate request: PEM PKCS#10 signed by
// its key, subject exactly CN system:node:NAME, O system:nodes, no
// alternative names, and an acceptable key.
func parseNodeCSR(node string, csrPEM []byte) (*x509.CertificateRequest, error) {
	blk, _ := pem.Decode(csrPEM)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("csr_pem: want a PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csr_pem: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csr_pem: signature: %w", err)
	}
	if csr.Subject.CommonName != NodeUserPrefix+node || !slices.Equal(csr.Subject.Organization, []string{NodesGroup}) {
		return nil, fmt.Errorf("csr_pem: subject %q: want CN=%s%s, O=%s", csr.Subject.String(), NodeUserPrefix, node, NodesGroup)
	}
	if len(csr.DNSNames)+len(csr.IPAddresses)+len(csr.EmailAddresses)+len(csr.URIs) > 0 {
		return nil, errors.New("csr_pem: a node client certificate carries no alternative names")
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("csr_pem: RSA keys must have at least 2048 bits")
		}
	default:
		return nil, fmt.Errorf("csr_pem: unsupported key type %T", k)
	}
	return csr, nil
}

// signNodeClient signs csr as a client certificate valid for ttl.
func (ca *CA) signNodeClient(csr *x509.CertificateRequest, ttl time.Duration) ([]byte, time.Time, error) {
	now := time.Now()
	notAfter := now.Add(ttl)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: csr.Subject.CommonName, Organization: csr.Subject.Organization},
		NotBefore: now.Add(-min(5*time.Minute, ttl/10)), NotAfter: notAfter, // backdated for clock skew
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("sign node certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), notAfter, nil
}
