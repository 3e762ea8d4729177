package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/restmapper"
)

// Resources returns every resource the server serves (subresources left
// out), from client-go's discovery, cached for the Client's life.
func (c *Client) Resources(ctx context.Context) ([]Resource, error) {
	_, lists, err := c.disc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discover API resources: %w", c.wrapErr(err))
	}
	var all []Resource
	for _, l := range lists {
		rs, err := resourcesFromList(l)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
	}
	return all, nil
}

// ResolveResource resolves what a user typed (po, svc, deployments.apps,
// deploy.apps, Pod...) as kubectl does: client-go's discovery RESTMapper,
// with the server's short names expanded.
func (c *Client) ResolveResource(ctx context.Context, name string) (Resource, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	if want == "" {
		return Resource{}, errors.New("resource type is empty: name one, e.g. pods, services, deployments")
	}
	mapper := restmapper.NewShortcutExpander(c.mapper, c.disc, nil)
	gvr, gr := schema.ParseResourceArg(want)
	var found schema.GroupVersionResource
	var err error
	if gvr != nil {
		found, err = mapper.ResourceFor(*gvr)
	}
	if gvr == nil || err != nil {
		found, err = mapper.ResourceFor(gr.WithVersion(""))
	}
	if err != nil {
		if !meta.IsNoMatchError(err) {
			return Resource{}, c.wrapErr(err)
		}
		all, aerr := c.Resources(ctx)
		if aerr != nil {
			return Resource{}, aerr
		}
		return Resource{}, fmt.Errorf("the server doesn't have a resource type %q; known types: %s",
			name, strings.Join(knownNames(all), ", "))
	}
	return c.resourceOf(found)
}

// ResourceForKind resolves a manifest's apiVersion and kind.
func (c *Client) ResourceForKind(ctx context.Context, apiVersion, kind string) (Resource, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || gv.Version == "" {
		return Resource{}, fmt.Errorf("invalid apiVersion %q: want v1 or GROUP/VERSION", apiVersion)
	}
	m, err := c.mapper.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if err == nil {
		return c.resourceOf(m.Resource)
	}
	if !meta.IsNoMatchError(err) {
		return Resource{}, c.wrapErr(err)
	}
	all, aerr := c.Resources(ctx)
	if aerr != nil {
		return Resource{}, aerr
	}
	for _, r := range all {
		if r.Kind == kind {
			return Resource{}, fmt.Errorf("the server serves kind %q as apiVersion %q, not %q: fix the manifest's apiVersion",
				kind, r.GVK().GroupVersion().String(), apiVersion)
		}
	}
	return Resource{}, fmt.Errorf("no kind %q in apiVersion %q on the server; known kinds: %s",
		kind, apiVersion, strings.Join(knownKinds(all), ", "))
}

// resourceOf is discovery's description of gvr.
func (c *Client) resourceOf(gvr schema.GroupVersionResource) (Resource, error) {
	list, err := c.disc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return Resource{}, fmt.Errorf("discover %s: %w", gvr.GroupVersion(), c.wrapErr(err))
	}
	rs, err := resourcesFromList(list)
	if err != nil {
		return Resource{}, err
	}
	for _, r := range rs {
		if r.Name == gvr.Resource {
			return r, nil
		}
	}
	return Resource{}, fmt.Errorf("discovery of %s does not list %s", gvr.GroupVersion(), gvr.Resource)
}

// resourcesFromList converts one discovery document; subresources
// (names with a slash) are left out.
func resourcesFromList(list *metav1.APIResourceList) ([]Resource, error) {
	gv, err := schema.ParseGroupVersion(list.GroupVersion)
	if err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(list.APIResources))
	for _, ar := range list.APIResources {
		if strings.Contains(ar.Name, "/") {
			continue
		}
		out = append(out, Resource{
			Group: gv.Group, Version: gv.Version, Name: ar.Name, SingularName: ar.SingularName,
			Kind: ar.Kind, Namespaced: ar.Namespaced, ShortNames: ar.ShortNames, Verbs: ar.Verbs,
		})
	}
	return out, nil
}

func knownNames(resources []Resource) []string {
	var names []string
	for _, r := range resources {
		if n := r.GroupResource(); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

func knownKinds(resources []Resource) []string {
	var kinds []string
	for _, r := range resources {
		if !slices.Contains(kinds, r.Kind) {
			kinds = append(kinds, r.Kind)
		}
	}
	slices.Sort(kinds)
	return kinds
}
