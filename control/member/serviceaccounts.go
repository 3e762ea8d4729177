package member

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store"
)

// serviceAccounts turns on ServiceAccount tokens in cfg: TokenRequest,
// admission and the OIDC documents, with the cluster's signing key (made
// once per cluster in the store, cached by this member at first use), and
// the token authenticator after the others.
func (m *Member) serviceAccounts(cfg *api.Config) error {
	keys := satoken.NewKeys(m.Store)
	m.saKeys.Store(keys)
	tokens := &api.ServiceAccountTokens{Keys: keys, Issuer: m.cfg.ServiceAccountIssuer,
		MaxExpiration: m.cfg.ServiceAccountMaxTokenExpiration}
	authn, err := api.ServiceAccountAuthenticator(m.Store, tokens)
	if err != nil {
		return err
	}
	cfg.ServiceAccountTokens = tokens
	cfg.Authenticators = append(cfg.Authenticators, authn)
	return nil
}

// OpRotateServiceAccountKey is the member operation (store.CallAt) that
// rotates the ServiceAccount signing key on the leader.
const OpRotateServiceAccountKey = "serviceaccount-key-rotate"

// RotateKeyRequest asks for a signing key rotation. RetireAfter is how
// long the replaced key keeps verifying; nil means the longest token
// lifetime the leader issues (--service-account-max-token-expiration)
// plus RetireGrace.
type RotateKeyRequest struct {
	RetireAfter *time.Duration `json:",omitempty"`
}

// RetireGrace covers what a token's lifetime does not: members signing
// with their cached key until they read the new one (satoken's
// DefaultRefresh) and clock skew.
const RetireGrace = 5 * time.Minute

// memberOps are the operations members run on the leader for each other
// (store.CallAt).
func (m *Member) memberOps() map[string]store.MemberOp {
	return map[string]store.MemberOp{
		OpRotateCA: m.rotateCA,
		OpRotateServiceAccountKey: func(ctx context.Context, body json.RawMessage) (any, error) {
			var req RotateKeyRequest
			if err := json.Unmarshal(body, &req); err != nil {
				return nil, fmt.Errorf("decode the rotation request: %w", err)
			}
			overlap := m.cfg.ServiceAccountMaxTokenExpiration
			if overlap <= 0 {
				overlap = satoken.DefaultMaxExpiration
			}
			overlap += RetireGrace
			if req.RetireAfter != nil {
				overlap = max(*req.RetireAfter, 0)
			}
			res, err := satoken.Rotate(ctx, m.Store, time.Now(), overlap)
			if err != nil {
				return nil, err
			}
			if keys := m.saKeys.Load(); keys != nil { // the leader signs with the new key at once
				_, _ = keys.Reload(ctx)
			}
			m.log.Info("ServiceAccount signing key rotated", "kid", res.KeyID, "retiring", res.Previous, "dropped", res.Dropped)
			return res, nil
		},
	}
}
