package client

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// discoveryCache holds discovery documents for the Client's life: one per
// group/version, plus the full ordered list once Resources ran.
type discoveryCache struct {
	mu     sync.Mutex
	byGV   map[string][]Resource
	all    []Resource
	loaded bool
}

// Resources returns every resource the server serves: core first, then
// each group in the server's order with its preferred version first. The
// answer is fetched once per Client.
func (c *Client) Resources(ctx context.Context) ([]Resource, error) {
	c.disc.mu.Lock()
	defer c.disc.mu.Unlock()
	if c.disc.loaded {
		return c.disc.all, nil
	}
	gvs, err := c.groupVersions(ctx)
	if err != nil {
		return nil, err
	}
	var all []Resource
	for _, gv := range gvs {
		rs, err := c.groupVersionLocked(ctx, gv)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	c.disc.all, c.disc.loaded = all, true
	return all, nil
}

// ResolveResource resolves what a user typed (po, svc, deployments.apps,
// Pod...) through discovery; see ResolveName.
func (c *Client) ResolveResource(ctx context.Context, name string) (Resource, error) {
	all, err := c.Resources(ctx)
	if err != nil {
		return Resource{}, err
	}
	return ResolveName(all, name)
}

// ResourceForKind resolves a manifest's apiVersion and kind, fetching only
// that group/version's discovery document.
func (c *Client) ResourceForKind(ctx context.Context, apiVersion, kind string) (Resource, error) {
	group, version, err := splitAPIVersion(apiVersion)
	if err != nil {
		return Resource{}, err
	}
	c.disc.mu.Lock()
	rs, err := c.groupVersionLocked(ctx, apiVersion)
	c.disc.mu.Unlock()
	if err != nil {
		if isNotFound(err) {
			all, aerr := c.Resources(ctx)
			if aerr != nil {
				return Resource{}, aerr
			}
			return ResolveKind(all, group, version, kind)
		}
		return Resource{}, err
	}
	return ResolveKind(rs, group, version, kind)
}

// groupVersionLocked fetches (or recalls) one group/version's resources.
// The caller holds c.disc.mu.
func (c *Client) groupVersionLocked(ctx context.Context, gv string) ([]Resource, error) {
	if rs, ok := c.disc.byGV[gv]; ok {
		return rs, nil
	}
	var list metav1.APIResourceList
	if err := c.do(ctx, request{method: "GET", path: discoveryPath(gv)}, &list); err != nil {
		return nil, fmt.Errorf("discover %s: %w", gv, err)
	}
	if list.GroupVersion == "" {
		list.GroupVersion = gv
	}
	rs, err := resourcesFromList(&list)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", gv, err)
	}
	if c.disc.byGV == nil {
		c.disc.byGV = make(map[string][]Resource)
	}
	c.disc.byGV[gv] = rs
	return rs, nil
}

// groupVersions lists the served group/versions: core versions from /api,
// then /apis groups, preferred version first.
func (c *Client) groupVersions(ctx context.Context) ([]string, error) {
	var core metav1.APIVersions
	if err := c.do(ctx, request{method: "GET", path: "/api"}, &core); err != nil {
		return nil, fmt.Errorf("discover core API versions: %w", err)
	}
	var groups metav1.APIGroupList
	if err := c.do(ctx, request{method: "GET", path: "/apis"}, &groups); err != nil {
		return nil, fmt.Errorf("discover API groups: %w", err)
	}
	gvs := append([]string(nil), core.Versions...)
	for _, g := range groups.Groups {
		pref := g.PreferredVersion.GroupVersion
		if pref != "" {
			gvs = append(gvs, pref)
		}
		for _, v := range g.Versions {
			if v.GroupVersion != pref {
				gvs = append(gvs, v.GroupVersion)
			}
		}
	}
	return gvs, nil
}

func discoveryPath(gv string) string {
	if group, version, _ := splitAPIVersion(gv); group != "" {
		return "/apis/" + group + "/" + version
	}
	return "/api/" + gv
}
