package member

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/store"
)

// OpRotateCA is the member operation (store.CallAt) that rotates the
// cluster CA on the leader (`weir certs rotate-ca`).
const OpRotateCA = "cluster-ca-rotate"

// RotateCARequest starts a CA rotation, or with Finish ends it. Finish
// refuses while a member or a node still holds a certificate from the
// previous CA, unless Force.
type RotateCARequest struct {
	Finish bool `json:",omitempty"`
	Force  bool `json:",omitempty"`
}

// RotateCAResult reports a CA rotation phase.
type RotateCAResult struct {
	Phase    string // "started" or "finished"
	CA       string // the signing CA's CN
	Previous string `json:",omitempty"` // the previous CA's CN, during the transition
	// Pending are the members and nodes that still held certificates of
	// the previous CA (a forced finish cut them off).
	Pending []string `json:",omitempty"`
}

func (m *Member) rotateCA(ctx context.Context, body json.RawMessage) (any, error) {
	var req RotateCARequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("decode the CA rotation request: %w", err)
	}
	if !req.Finish {
		ca, err := nodestream.RotateCA(ctx, m.Store, time.Now())
		if err != nil {
			return nil, err
		}
		m.adoptCA(ca)
		m.log.Info("cluster CA rotation started", "ca", ca.Subject(), "previous", ca.Previous().Subject.CommonName)
		return &RotateCAResult{Phase: "started", CA: ca.Subject(), Previous: ca.Previous().Subject.CommonName}, nil
	}
	cur, err := nodestream.ReadCA(ctx, m.Store, store.ReadOptions{})
	if err != nil {
		return nil, err
	}
	if !cur.Rotating() {
		return nil, fmt.Errorf("%w: no rotation to finish (start one with weir certs rotate-ca)", nodestream.ErrCARotation)
	}
	m.adoptCA(cur)
	pending, err := m.pendingRenewals(ctx, cur)
	if err != nil {
		return nil, err
	}
	if len(pending) > 0 && !req.Force {
		return nil, fmt.Errorf("these still use certificates of the previous CA (members renew within seconds of the rotation, agents at their next connection; retry, or --force to cut them off): %s",
			strings.Join(pending, ", "))
	}
	ca, err := nodestream.FinishCARotation(ctx, m.Store)
	if err != nil {
		return nil, err
	}
	m.adoptCA(ca)
	m.log.Info("cluster CA rotation finished: the previous CA is no longer trusted", "ca", ca.Subject(), "cut off", pending)
	return &RotateCAResult{Phase: "finished", CA: ca.Subject(), Pending: pending}, nil
}

// adoptCA makes the leader serve and sign with ca at once (the others
// follow within caFollow).
func (m *Member) adoptCA(ca *nodestream.CA) {
	if cur := m.tls.CA(); cur != nil && cur.Equal(ca) {
		return
	}
	if err := m.installCA(ca); err != nil {
		m.log.Error("install the cluster CA", "error", err)
		return
	}
	if err := m.Store.EnsurePeerCert(); err != nil {
		m.log.Warn("renew this member's peer certificate", "error", err)
	}
}

// pendingRenewals are the members whose peer certificate, and the nodes
// (with a Node) whose newest client certificate, the signing CA of ca did
// not sign.
func (m *Member) pendingRenewals(ctx context.Context, ca *nodestream.CA) ([]string, error) {
	signer, _ := ca.Signer()
	certs, errs, err := m.Store.MemberCertificates(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for name, c := range certs {
		if c.CheckSignatureFrom(signer) != nil {
			out = append(out, "member "+name)
		}
	}
	for name, err := range errs {
		out = append(out, fmt.Sprintf("member %s (unreachable: %v)", name, err))
	}
	lr, err := m.Store.List(ctx, store.ListOptions{Resource: revoke.NodeCertsResource})
	if err != nil {
		return nil, fmt.Errorf("list node certificates: %w", err)
	}
	newest := map[string]revoke.NodeCert{}
	now := time.Now()
	for _, o := range lr.Objects {
		var rec revoke.NodeCert
		if json.Unmarshal(o.Value, &rec) != nil || rec.NotAfter.Before(now) {
			continue
		}
		if cur, ok := newest[rec.Node]; !ok || rec.NotAfter.After(cur.NotAfter) {
			newest[rec.Node] = rec
		}
	}
	issuer := signer.Subject.String()
	for node, rec := range newest {
		if rec.Issuer == issuer {
			continue
		}
		if _, err := m.Store.Get(ctx, store.Key{Resource: "nodes", Name: node}, store.ReadOptions{}); err != nil {
			continue // no Node: nothing is cut off
		}
		out = append(out, "node "+node)
	}
	slices.Sort(out)
	return out, nil
}
