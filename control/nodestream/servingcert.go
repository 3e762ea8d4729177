package nodestream

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// NodeServingCert issues a one-year serving certificate for a node's API
// (its agent's HTTPS endpoint for logs and exec), valid for the node's
// name and the addresses in ips, and returns it and its key as PEM. The
// control plane verifies it against the cluster CA and the node's name
// when it calls the node. Callers pass only addresses the node owns (see
// servingIPs).
func (ca *CA) NodeServingCert(node string, ips []netip.Addr) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: NodeUserPrefix + node, Organization: []string{NodesGroup}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), DNSNames: []string{node},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, a := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(a.AsSlice()))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign the serving certificate of node %s: %w", node, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// servingIPs are the registered addresses a node's serving certificate
// may name: never loopback, unspecified, multicast or link-local
// addresses, nor a control member's address. Withheld ones are logged.
func (s *Server) servingIPs(ctx context.Context, node string, addrs []string) []netip.Addr {
	members := map[netip.Addr]bool{}
	if s.cfg.Members != nil {
		ms, err := s.cfg.Members(ctx)
		if err != nil {
			s.log.Warn("list members for a node serving certificate; it names no address", "node", node, "error", err)
			return nil
		}
		for _, m := range ms {
			for _, hp := range []string{m.PeerAddr, m.APIAddr} {
				if ap, err := netip.ParseAddrPort(hp); err == nil {
					members[ap.Addr().Unmap()] = true
				}
			}
		}
	}
	var out []netip.Addr
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		if ip.IsLoopback() || ip.IsUnspecified() || ip.IsMulticast() || ip.IsLinkLocalUnicast() || members[ip] {
			s.log.Warn("node serving certificate: address withheld (loopback, unspecified or a control member's)", "node", node, "address", a)
			continue
		}
		out = append(out, ip)
	}
	return out
}
