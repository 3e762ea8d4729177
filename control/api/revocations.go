package api

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weirnet/weir/control/revoke"
)

// revocationResource names the revocation list in Status errors.
var revocationResource = &resource{kindInfo: kindInfo{Version: "v1", Kind: "Revocation", Plural: "revocations", Singular: "revocation"}}

// serveRevocations answers GET /weir/v1/revocations (the revocation list)
// and POST /weir/v1/revocations (a revoke.Request: revoke one serial, every
// certificate of a user issued until now, or a node's certificates). A
// POST answers once the revocation is in force on this member.
func (s *Server) serveRevocations(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		setLabels(r.Context(), "list", "revocations")
		es, err := revoke.Entries(r.Context(), s.cfg.Store)
		if err != nil {
			s.writeError(w, r, storeError(err, revocationResource, ""))
			return
		}
		s.writeObject(w, r, http.StatusOK, revoke.List{Items: es})
	case http.MethodPost:
		setLabels(r.Context(), "create", "revocations")
		body, err := s.readBody(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var req revoke.Request
		if err := json.Unmarshal(body, &req); err != nil {
			s.writeError(w, r, errBadRequest("decode the revocation request: %v", err))
			return
		}
		es, err := s.revoke(r.Context(), req)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeObject(w, r, http.StatusCreated, revoke.List{Items: es})
	default:
		s.writeError(w, r, errMethodNotAllowed())
	}
}

func (s *Server) revoke(ctx context.Context, req revoke.Request) ([]revoke.Entry, error) {
	n := 0
	for _, v := range []string{req.Serial, req.User, req.Node} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errBadRequest("a revocation names exactly one of serial, user or node")
	}
	for _, v := range []string{req.User, req.Node, req.Reason} {
		if len(v) > 1024 || strings.ContainsFunc(v, unicode.IsControl) {
			return nil, errBadRequest("a user, node or reason of at most 1024 printable characters, please")
		}
	}
	caEnd, err := s.caNotAfter(ctx)
	if err != nil {
		return nil, errInternal(err)
	}
	st := s.cfg.Store
	var es []revoke.Entry
	var rev uint64
	switch {
	case req.Serial != "":
		serial, err := revoke.ParseSerial(req.Serial)
		if err != nil {
			return nil, errBadRequest("%v", err)
		}
		e := revoke.Entry{Serial: serial, Reason: req.Reason, NotAfter: caEnd}
		// A node certificate's record gives its subject and expiry.
		if rec, ok, err := revoke.NodeCertOf(ctx, st, serial); err != nil {
			return nil, storeError(err, revocationResource, "")
		} else if ok {
			e.Issuer, e.Subject, e.NotAfter = rec.Issuer, rec.Subject, rec.NotAfter
		}
		if rev, err = revoke.Put(ctx, st, e); err != nil {
			return nil, storeError(err, revocationResource, "")
		}
		es = []revoke.Entry{e}
	case req.Node != "":
		if es, rev, err = revoke.RevokeNode(ctx, st, req.Node, req.Reason, 0); err != nil {
			return nil, storeError(err, revocationResource, "")
		}
		if len(es) == 0 {
			// No recorded certificate (joined before they were recorded):
			// revoke every certificate issued to the node's user until now.
			req.User = "system:node:" + req.Node
		}
	}
	if req.User != "" {
		// Certificate times have whole seconds: the entry covers what was
		// issued before the next full second, and the answer waits for it,
		// so that what is issued after the answer works.
		at := time.Now().UTC().Truncate(time.Second).Add(time.Second)
		e := revoke.Entry{User: req.User, Reason: req.Reason, Revoked: at, NotAfter: caEnd}
		if rev, err = revoke.Put(ctx, st, e); err != nil {
			return nil, storeError(err, revocationResource, "")
		}
		es = append(es, e)
	}
	if req.User != "" {
		time.Sleep(time.Until(es[len(es)-1].Revoked))
	}
	for _, e := range es {
		s.log.Info("certificate revoked", "serial", e.Serial, "user", e.User, "subject", e.Subject, "reason", e.Reason, "by", userOf(ctx).GetName())
	}
	if set := s.cfg.Revocations; set != nil && rev != 0 {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := set.WaitFor(wctx, rev); err != nil {
			return nil, apierrors.NewTimeoutError(fmt.Sprintf("the revocation is written (revision %d) but not yet in force on this member", rev), 1)
		}
	}
	return es, nil
}

// caNotAfter is when the cluster CA expires: no certificate it signed
// outlives it, so neither need the entries whose certificates are unknown.
func (s *Server) caNotAfter(ctx context.Context) (time.Time, error) {
	if s.cfg.NodeCA == nil {
		return time.Now().Add(10 * 365 * 24 * time.Hour).UTC(), nil
	}
	p, err := s.cfg.NodeCA(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the cluster CA: %w", err)
	}
	blk, _ := pem.Decode(p)
	if blk == nil {
		return time.Time{}, errors.New("the cluster CA is not PEM")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse the cluster CA: %w", err)
	}
	return c.NotAfter.UTC(), nil
}

// certRevoked is nil for a certificate the revocation list does not name
// (or when the API has no list); otherwise the refusal is logged with the
// serial and subject.
func (s *Server) certRevoked(r *http.Request, c *x509.Certificate) error {
	if s.cfg.Revocations == nil {
		return nil
	}
	err := s.cfg.Revocations.Check(c)
	if err != nil {
		s.log.Warn("refused a revoked or unchecked client certificate", "serial", revoke.SerialOf(c),
			"subject", c.Subject.String(), "error", err, "remote", r.RemoteAddr)
	}
	return err
}
