package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Client is a minimal client of one member's API: it returns status codes
// and bodies as they are, and keeps connections alive. It speaks HTTPS and
// trusts the cluster CA, read from the first of CAFiles that exists when
// a connection is made (members write ca.crt once they know the CA).
type Client struct {
	Base  string // https://HOST:PORT
	Token string
	HTTP  *http.Client // for requests; each has its own context deadline
}

// NewClient returns a client for the member at addr (HOST:PORT) that
// trusts the CA certificate (PEM) in the first of caFiles that exists.
func NewClient(addr, token string, caFiles ...string) *Client {
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute,
		TLSClientConfig: VerifyWithCAFiles(addr, caFiles...), ForceAttemptHTTP2: false}
	return &Client{Base: "https://" + addr, Token: token, HTTP: &http.Client{Transport: tr}}
}

// VerifyWithCAFiles is a TLS client configuration for the server at addr
// that verifies its certificate (for addr's host) against the CA in the
// first of caFiles that exists, read at each handshake: the files may not
// exist yet when the configuration is made.
func VerifyWithCAFiles(addr string, caFiles ...string) *tls.Config {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified in VerifyConnection, against a CA read late
		VerifyConnection: func(cs tls.ConnectionState) error {
			var pem []byte
			for _, f := range caFiles {
				if pem, err = os.ReadFile(f); err == nil {
					break
				}
			}
			if pem == nil {
				return fmt.Errorf("no cluster CA yet (none of %v exists)", caFiles)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return errors.New("cluster CA file holds no PEM certificate")
			}
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, DNSName: host})
			return err
		},
	}
}

// Response is an HTTP answer.
type Response struct {
	Code   int
	Body   []byte
	Header http.Header
}

// Do sends one request with body (JSON when non-nil) and reads the whole
// answer. An error means no complete answer arrived: the outcome of a write
// is then unknown.
func (c *Client) Do(ctx context.Context, method, path string, body []byte) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return Response{Code: resp.StatusCode, Body: data, Header: resp.Header}, nil
}

// CloseIdle closes idle keep-alive connections (after a member restarts).
func (c *Client) CloseIdle() { c.HTTP.CloseIdleConnections() }

// MemberInfo is one entry of GET /weir/v1/members.
type MemberInfo struct {
	Name     string `json:"name"`
	PeerAddr string `json:"peerAddr"`
	APIAddr  string `json:"apiAddr"`
	Voter    bool   `json:"voter"`
	Leader   bool   `json:"leader"`
}

// Members lists the members as this member sees them.
func (c *Client) Members(ctx context.Context) ([]MemberInfo, error) {
	r, err := c.Do(ctx, "GET", "/weir/v1/members", nil)
	if err != nil {
		return nil, err
	}
	if r.Code != 200 {
		return nil, fmt.Errorf("GET /weir/v1/members: %d %s", r.Code, bytes.TrimSpace(r.Body))
	}
	var l struct {
		Members []MemberInfo `json:"members"`
	}
	if err := json.Unmarshal(r.Body, &l); err != nil {
		return nil, fmt.Errorf("decode member list: %w", err)
	}
	return l.Members, nil
}

// Meta is the part of an object's metadata the tests look at.
type Meta struct {
	Name            string `json:"name"`
	Namespace       string `json:"namespace"`
	UID             string `json:"uid"`
	ResourceVersion string `json:"resourceVersion"`
}

// Revision is metadata.resourceVersion as a number (0 when absent).
func (m Meta) Revision() uint64 {
	v, _ := strconv.ParseUint(m.ResourceVersion, 10, 64)
	return v
}

// MetaOf decodes an object's metadata.
func MetaOf(obj []byte) (Meta, error) {
	var o struct {
		Metadata Meta `json:"metadata"`
	}
	if err := json.Unmarshal(obj, &o); err != nil {
		return Meta{}, fmt.Errorf("decode object metadata: %w", err)
	}
	return o.Metadata, nil
}

// List is a decoded list answer: its items (raw) and its resourceVersion.
type List struct {
	Revision uint64
	Items    []json.RawMessage
}

// DecodeList decodes a Kubernetes list body.
func DecodeList(body []byte) (List, error) {
	var l struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return List{}, fmt.Errorf("decode list: %w", err)
	}
	rev, _ := strconv.ParseUint(l.Metadata.ResourceVersion, 10, 64)
	return List{Revision: rev, Items: l.Items}, nil
}
