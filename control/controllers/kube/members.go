package kube

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/client-go/kubernetes"
)

// Member is a control-plane member with its readiness as the serving
// member probed it (GET /weir/v1/members?probe=true).
type Member struct {
	Name    string `json:"name"`
	APIAddr string `json:"apiAddr"`
	Voter   bool   `json:"voter"`
	Ready   bool   `json:"ready"`
}

// Members lists the control-plane members with their readiness, through
// the clientset's REST client (weir's own endpoint, JSON only).
func Members(ctx context.Context, cs kubernetes.Interface) ([]Member, error) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/weir/v1/members").Param("probe", "true").
		SetHeader("Accept", "application/json").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("kube: list members: %w", err)
	}
	var out struct {
		Members []Member `json:"members"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("kube: decode members: %w", err)
	}
	return out.Members, nil
}
