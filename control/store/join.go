package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/weirnet/weir/control/encrypt"
)

// The join exchange gives a new member its credentials. The joiner does not
// know the cluster CA yet, so it cannot verify the member it dials; instead
// both sides prove the cluster secret bound to their TLS session (an HMAC
// over the session's exported keying material, RFC 5705). A relay in the
// middle holds two sessions with different keying material and cannot
// forge either proof without the secret. Once the server has proven the
// secret, the joiner trusts what comes over the session: its member
// certificate (for a key it generated; the private key never leaves it),
// the CA (which must also have signed the server's certificate) and the
// cluster's encryption config. After that every connection is mutual TLS.

const (
	joinExporterLabel = "EXPORTER-weir-join"
	joinMaxMessage    = 1 << 20
	joinWait          = 10 * time.Second
)

var errJoinProof = errors.New("store: join refused: the cluster secret did not match (do all members use the same cluster secret?)")

type joinHello struct {
	Name      string
	PublicKey []byte // PKIX DER
	Proof     []byte
}

type joinGrant struct {
	Proof      []byte
	Chain      [][]byte // member certificate, then the CA (DER)
	Encryption []byte   // the encryption config (YAML); empty when none
	Error      string   // why no certificate was granted (the secret matched)
}

func joinProof(secret []byte, label string, ekm []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write(ekm)
	for _, p := range parts {
		sum := sha256.Sum256(p)
		m.Write(sum[:])
	}
	return m.Sum(nil)
}

func exportedKey(conn *tls.Conn) ([]byte, error) {
	cs := conn.ConnectionState()
	return cs.ExportKeyingMaterial(joinExporterLabel, nil, 32)
}

// serveJoin answers one join exchange (the connection's handshake is done).
func (s *Store) serveJoin(conn *tls.Conn) {
	_ = conn.SetDeadline(time.Now().Add(joinWait))
	remote := conn.RemoteAddr().String()
	err := func() error {
		var hello joinHello
		if err := json.NewDecoder(io.LimitReader(conn, joinMaxMessage)).Decode(&hello); err != nil {
			return fmt.Errorf("read join request: %w", err)
		}
		ekm, err := exportedKey(conn)
		if err != nil {
			return err
		}
		var secret []byte
		for _, sec := range s.acceptedSecrets() {
			if hmac.Equal(hello.Proof, joinProof(sec, "join-client", ekm, []byte(hello.Name), hello.PublicKey)) {
				secret = sec
				break
			}
		}
		if secret == nil {
			return errJoinProof
		}
		pub, err := x509.ParsePKIXPublicKey(hello.PublicKey)
		if err != nil {
			return fmt.Errorf("join request from %q: public key: %w", hello.Name, err)
		}
		grant := joinGrant{Proof: joinProof(secret, "join-server", ekm)}
		if grant.Chain, err = s.grantChain(hello.Name, pub); err != nil {
			grant.Error = err.Error()
			_ = json.NewEncoder(conn).Encode(&grant)
			return err
		}
		if c := s.enc.config(); c != nil {
			if grant.Encryption, err = c.Marshal(); err != nil {
				return err
			}
		}
		s.log.Info("issued a member certificate to a joining member", "name", hello.Name, "remote", remote)
		return json.NewEncoder(conn).Encode(&grant)
	}()
	if err != nil {
		s.log.Warn("join exchange refused", "remote", remote, "error", err)
	}
}

func (s *Store) grantChain(name string, pub any) ([][]byte, error) {
	if s.creds.ca == nil {
		return nil, errors.New("this member cannot sign member certificates")
	}
	b := s.creds.ca()
	if b == nil || b.Key == nil {
		return nil, errors.New("this member does not know the cluster CA yet; retry")
	}
	return signMember(b, name, pub)
}

// fetchCredentials runs the join exchange with the configured members
// until one answers or ctx ends.
func (s *Store) fetchCredentials(ctx context.Context) error {
	var lastErr error
	for attempt := 0; ; attempt++ {
		for _, addr := range s.cfg.Join {
			if lastErr = s.joinExchange(ctx, addr); lastErr == nil {
				return nil
			}
		}
		if attempt%10 == 0 {
			s.log.Warn("join: no member granted credentials yet; retrying", "members", s.cfg.Join, "error", lastErr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("join %v: %w (last error: %v)", s.cfg.Join, ctx.Err(), lastErr)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *Store) joinExchange(ctx context.Context, addr string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, joinWait)
	defer cancel()
	// The server's certificate is checked below, against the CA that the
	// secret-authenticated session delivers.
	raw, err := (&tls.Dialer{Config: &tls.Config{
		MinVersion: tls.VersionTLS13, NextProtos: []string{alpnJoin}, InsecureSkipVerify: true,
	}}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("join %s: %w", addr, err)
	}
	conn := raw.(*tls.Conn)
	defer conn.Close()
	if conn.ConnectionState().NegotiatedProtocol != alpnJoin {
		return fmt.Errorf("join %s: %w", addr, errNotPeer)
	}
	if d, ok := dctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	ekm, err := exportedKey(conn)
	if err != nil {
		return err
	}
	hello := joinHello{Name: s.cfg.Name, PublicKey: pub, Proof: joinProof(s.currentSecret(), "join-client", ekm, []byte(s.cfg.Name), pub)}
	if err := json.NewEncoder(conn).Encode(&hello); err != nil {
		return fmt.Errorf("join %s: %w", addr, err)
	}
	var grant joinGrant
	if err := json.NewDecoder(io.LimitReader(conn, joinMaxMessage)).Decode(&grant); err != nil {
		// The server closes without an answer when our proof was wrong.
		return fmt.Errorf("join %s: no grant (%v): %w", addr, err, errJoinProof)
	}
	if !hmac.Equal(grant.Proof, joinProof(s.currentSecret(), "join-server", ekm)) {
		return fmt.Errorf("join %s: the member did not prove the cluster secret: %w", addr, errJoinProof)
	}
	if grant.Error != "" {
		return fmt.Errorf("join %s: %s", addr, grant.Error)
	}
	if err := checkGrant(grant, &key.PublicKey, conn.ConnectionState()); err != nil {
		return fmt.Errorf("join %s: %w", addr, err)
	}
	if len(grant.Encryption) > 0 {
		if _, err := os.Stat(s.enc.path); errors.Is(err, os.ErrNotExist) {
			c, err := encrypt.Parse(grant.Encryption)
			if err != nil {
				return fmt.Errorf("join %s: %w", addr, err)
			}
			if err := s.enc.set(ctx, c); err != nil {
				return err
			}
		}
	}
	if err := s.creds.install(grant.Chain, key); err != nil {
		return err
	}
	s.log.Info("received this member's peer certificate", "from", addr)
	return nil
}

// checkGrant verifies that the granted chain certifies our key under a CA
// that also signed the server's member certificate.
func checkGrant(g joinGrant, pub *ecdsa.PublicKey, cs tls.ConnectionState) error {
	if len(g.Chain) != 2 {
		return errors.New("store: join grant: want a member certificate and the CA")
	}
	leaf, err := x509.ParseCertificate(g.Chain[0])
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(g.Chain[1])
	if err != nil {
		return err
	}
	if !pub.Equal(leaf.PublicKey) {
		return errors.New("store: join grant: certificate is not for this member's key")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("store: join grant: %w", err)
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("store: join: the member presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	opts = x509.VerifyOptions{Roots: pool, Intermediates: inter, DNSName: memberServerName}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return fmt.Errorf("store: join: the member's certificate is not signed by the CA it granted: %w", err)
	}
	return checkMember(tls.ConnectionState{PeerCertificates: cs.PeerCertificates})
}
