package kube

import (
	"context"
	"net/http"
)

// Member is a control-plane member with its readiness as the serving
// member probed it (GET /weir/v1/members?probe=true).
type Member struct {
	Name    string `json:"name"`
	APIAddr string `json:"apiAddr"`
	Voter   bool   `json:"voter"`
	Ready   bool   `json:"ready"`
}

// Members lists the control-plane members with their readiness.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	var out struct {
		Members []Member `json:"members"`
	}
	if err := c.do(ctx, http.MethodGet, "/weir/v1/members?probe=true", nil, &out); err != nil {
		return nil, err
	}
	return out.Members, nil
}
