package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// Member is one control-plane member as GET /weir/v1/members reports it.
type Member struct {
	Name     string `json:"name"`
	PeerAddr string `json:"peerAddr"`
	APIAddr  string `json:"apiAddr"`
	Voter    bool   `json:"voter"`
	Leader   bool   `json:"leader"`
	// Set by ProbeMembers: whether the member's /readyz answered the
	// serving member, and why not.
	Ready      *bool  `json:"ready,omitempty"`
	ProbeError string `json:"probeError,omitempty"`
}

// Members lists the control-plane members.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	return c.members(ctx, false)
}

// ProbeMembers lists the members with their readiness, as the serving
// member sees it (it GETs each member's /readyz).
func (c *Client) ProbeMembers(ctx context.Context) ([]Member, error) {
	return c.members(ctx, true)
}

// members GETs /weir/v1/members through client-go's RESTClient.
func (c *Client) members(ctx context.Context, probe bool) ([]Member, error) {
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	req := c.rest.Get().AbsPath("/weir/v1/members")
	if probe {
		req.Param("probe", "true")
	}
	raw, err := req.DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", c.wrapErr(err))
	}
	return decodeMembers(raw)
}

// decodeMembers accepts a bare JSON array or an object wrapping it in
// "members" or "items".
func decodeMembers(raw json.RawMessage) ([]Member, error) {
	var ms []Member
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &ms); err != nil {
			return nil, fmt.Errorf("decode members: %w", err)
		}
		return ms, nil
	}
	var wrapped struct {
		Members []Member `json:"members"`
		Items   []Member `json:"items"`
	}
	if err := json.Unmarshal(raw, &wrapped); err != nil {
		return nil, fmt.Errorf("decode members: %w", err)
	}
	if wrapped.Members != nil {
		return wrapped.Members, nil
	}
	return wrapped.Items, nil
}

// RemoveMember removes a member from the cluster's configuration.
func (c *Client) RemoveMember(ctx context.Context, name string) error {
	if name == "" {
		return fmt.Errorf("remove member: name is empty")
	}
	ctx, cancel := c.bounded(ctx)
	defer cancel()
	if err := c.rest.Delete().AbsPath("/weir/v1/members", name).Do(ctx).Error(); err != nil {
		return fmt.Errorf("remove member %s: %w", name, c.wrapErr(err))
	}
	return nil
}
