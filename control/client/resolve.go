package client

import (
	"fmt"
	"slices"
	"strings"
)

// ResolveName finds the resource a user means by name, in the order
// discovery listed them (core first, preferred versions first). It accepts,
// case-insensitively, the plural ("pods"), the singular ("pod"), a short
// name ("po"), the kind ("Pod"), each optionally qualified by group
// ("deployments.apps", "deploy.apps").
func ResolveName(resources []Resource, name string) (Resource, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	if want == "" {
		return Resource{}, fmt.Errorf("resource type is empty: name one, e.g. pods, services, deployments")
	}
	if r, ok := findName(resources, want, nil); ok {
		return r, nil
	}
	if base, group, ok := strings.Cut(want, "."); ok {
		if r, ok := findName(resources, base, &group); ok {
			return r, nil
		}
	}
	return Resource{}, fmt.Errorf("the server doesn't have a resource type %q; known types: %s",
		name, strings.Join(knownNames(resources), ", "))
}

// findName matches want against each resource's names; group, when
// non-nil, must match too.
func findName(resources []Resource, want string, group *string) (Resource, bool) {
	for _, match := range []func(Resource) bool{
		func(r Resource) bool { return r.Name == want },
		func(r Resource) bool { return r.SingularName == want },
		func(r Resource) bool { return slices.Contains(r.ShortNames, want) },
		func(r Resource) bool { return strings.ToLower(r.Kind) == want },
	} {
		for _, r := range resources {
			if group != nil && r.Group != *group {
				continue
			}
			if match(r) {
				return r, true
			}
		}
	}
	return Resource{}, false
}

// ResolveKind finds the resource serving kind in group/version (a
// manifest's apiVersion and kind).
func ResolveKind(resources []Resource, group, version, kind string) (Resource, error) {
	for _, r := range resources {
		if r.Group == group && r.Version == version && r.Kind == kind {
			return r, nil
		}
	}
	apiVersion := qualifyVersion(group, version)
	for _, r := range resources {
		if r.Kind == kind {
			return Resource{}, fmt.Errorf("the server serves kind %q as apiVersion %q, not %q: fix the manifest's apiVersion",
				kind, qualifyVersion(r.Group, r.Version), apiVersion)
		}
	}
	return Resource{}, fmt.Errorf("no kind %q in apiVersion %q on the server; known kinds: %s",
		kind, apiVersion, strings.Join(knownKinds(resources), ", "))
}

func qualifyVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
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
