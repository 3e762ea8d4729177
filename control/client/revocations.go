package client

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/revoke/revokeapi"
)

// Revoke asks the cluster to revoke certificates (POST
// /weir/v1/revocations) and returns the entries it wrote; the answer comes
// once the revocation is in force on the serving member.
func (c *Client) Revoke(ctx context.Context, req revokeapi.Request) ([]revokeapi.Entry, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	body, _ := json.Marshal(req)
	raw, err := c.rest.Post().AbsPath("/weir/v1/revocations").SetHeader("Content-Type", "application/json").Body(body).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke: %w", statusOf(raw, c.wrapErr(err)))
	}
	var l revokeapi.List
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("revoke: decode the answer: %w", err)
	}
	return l.Items, nil
}

// Revocations is the certificate revocation list (GET /weir/v1/revocations).
func (c *Client) Revocations(ctx context.Context) ([]revokeapi.Entry, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	raw, err := c.rest.Get().AbsPath("/weir/v1/revocations").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("list revoked certificates: %w", statusOf(raw, c.wrapErr(err)))
	}
	var l revokeapi.List
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("list revoked certificates: decode: %w", err)
	}
	return l.Items, nil
}

// statusOf is the Status a failed request's body carries (the unversioned
// client does not decode it), else err.
func statusOf(raw []byte, err error) error {
	var st metav1.Status
	if json.Unmarshal(raw, &st) == nil && st.Kind == "Status" && st.Message != "" {
		return &apierrors.StatusError{ErrStatus: st}
	}
	return err
}
