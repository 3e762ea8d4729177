package api

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
)

var objectVerbs = metav1.Verbs{"create", "delete", "get", "list", "patch", "update", "watch"}

// serveDiscovery answers /api, /apis, /apis/<group> and the resource lists
// of /api/v1 and /apis/<group>/<version>.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	setLabels(r.Context(), "get", "discovery")
	if r.Method != http.MethodGet {
		s.writeError(w, r, errMethodNotAllowed())
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 1 && s.serveAggregated(w, r, parts[0] == "api") {
		return
	}
	var body any
	switch {
	case len(parts) == 1 && parts[0] == "api":
		body = &metav1.APIVersions{
			TypeMeta: metav1.TypeMeta{Kind: "APIVersions", APIVersion: "v1"},
			Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
				{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host},
			},
		}
	case len(parts) == 1:
		body = s.groupList()
	case len(parts) == 2 && parts[0] == "api" && parts[1] == "v1":
		body = s.resourceList("", "v1")
	case len(parts) == 2 && parts[0] == "apis":
		if g := s.group(parts[1]); g != nil {
			body = g
		}
	case len(parts) == 3 && parts[0] == "apis":
		if g := s.group(parts[1]); g != nil && g.PreferredVersion.Version == parts[2] {
			body = s.resourceList(parts[1], parts[2])
		}
	}
	if body == nil {
		s.writeError(w, r, errNoRoute())
		return
	}
	s.writeObject(w, r, http.StatusOK, body)
}

func (s *Server) groupList() *metav1.APIGroupList {
	l := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	seen := map[string]bool{}
	var names []string
	for _, res := range s.reg.list {
		if res.Group != "" && !seen[res.Group] {
			seen[res.Group] = true
			names = append(names, res.Group)
		}
	}
	names = append(names, authnGroup, authzGroup)
	sort.Strings(names)
	for _, n := range names {
		l.Groups = append(l.Groups, *s.group(n))
	}
	return l
}

// group describes one named group; weir serves one version per group.
func (s *Server) group(name string) *metav1.APIGroup {
	if g := reviewGroup(name); g != nil {
		return g
	}
	for _, res := range s.reg.list {
		if res.Group == name && name != "" {
			gv := metav1.GroupVersionForDiscovery{GroupVersion: res.APIVersion(), Version: res.Version}
			return &metav1.APIGroup{
				TypeMeta:         metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"},
				Name:             name,
				Versions:         []metav1.GroupVersionForDiscovery{gv},
				PreferredVersion: gv,
			}
		}
	}
	return nil
}

func (s *Server) resourceList(group, version string) *metav1.APIResourceList {
	gv := version
	if group != "" {
		gv = group + "/" + version
	}
	l := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
	for _, res := range s.reg.list {
		if res.Group != group || res.Version != version {
			continue
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{
			Name: res.Plural, SingularName: res.Singular, Namespaced: res.Namespaced,
			Kind: res.Kind, Verbs: objectVerbs, ShortNames: res.ShortNames, Categories: categories(res.Kind),
		})
		for _, sub := range res.subs {
			l.APIResources = append(l.APIResources, subresourceInfo(res, sub))
		}
	}
	l.APIResources = append(l.APIResources, reviewAPIResources(group, version)...)
	return l
}

func subresourceInfo(res *resource, sub string) metav1.APIResource {
	ar := metav1.APIResource{Name: res.Plural + "/" + sub, Namespaced: res.Namespaced, Kind: res.Kind,
		Verbs: metav1.Verbs{"get", "patch", "update"}}
	switch sub {
	case "binding":
		ar.Kind, ar.Verbs = "Binding", metav1.Verbs{"create"}
	case "log":
		ar.Verbs = metav1.Verbs{"get"}
	case "exec", "attach", "portforward":
		ar.Kind = map[string]string{"exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions"}[sub]
		ar.Verbs = metav1.Verbs{"create", "get"}
	case "scale":
		ar.Group, ar.Version, ar.Kind = "autoscaling", "v1", "Scale"
	case "token":
		ar.Group, ar.Version, ar.Kind, ar.Verbs = "authentication.k8s.io", "v1", "TokenRequest", metav1.Verbs{"create"}
	case "eviction":
		ar.Group, ar.Version, ar.Kind, ar.Verbs = "policy", "v1", "Eviction", metav1.Verbs{"create"}
	}
	return ar
}

// aggregatedDiscovery is the GVK clients name in Accept to get the
// aggregated discovery document (apidiscovery.k8s.io/v2) of /api or /apis
// in one request instead of one per group-version.
var aggregatedDiscovery = apidiscoveryv2.SchemeGroupVersion.WithKind("APIGroupDiscoveryList")

type discoveryRestrictions struct{}

func (discoveryRestrictions) AllowsMediaTypeTransform(_, _ string, target *schema.GroupVersionKind) bool {
	return target == nil || *target == aggregatedDiscovery
}
func (discoveryRestrictions) AllowsServerVersion(string) bool { return false }
func (discoveryRestrictions) AllowsStreamSchema(string) bool  { return false }

// serveAggregated answers /api or /apis with the aggregated document when
// the client asked for it, and reports whether it did.
func (s *Server) serveAggregated(w http.ResponseWriter, r *http.Request, legacy bool) bool {
	opts, info, err := negotiation.NegotiateOutputMediaType(r, s.codecs.factory, discoveryRestrictions{})
	if err != nil || opts.Convert == nil {
		return false
	}
	doc := s.aggregated(legacy)
	data, err := s.encode(info, opts.Pretty, doc)
	if err != nil {
		s.writeError(w, r, errInternal(err))
		return true
	}
	w.Header().Set("Content-Type", fmt.Sprintf("%s;g=%s;v=%s;as=%s", info.MediaType,
		aggregatedDiscovery.Group, aggregatedDiscovery.Version, aggregatedDiscovery.Kind))
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return true
}

// aggregated builds the aggregated discovery document of the core group
// (legacy, /api) or of every named group (/apis) from the same resource
// lists the per-group-version endpoints serve.
func (s *Server) aggregated(legacy bool) *apidiscoveryv2.APIGroupDiscoveryList {
	out := &apidiscoveryv2.APIGroupDiscoveryList{}
	var groups []string
	if legacy {
		groups = []string{""}
	} else {
		for _, g := range s.groupList().Groups {
			groups = append(groups, g.Name)
		}
	}
	for _, name := range groups {
		version := "v1"
		if g := s.group(name); g != nil {
			version = g.PreferredVersion.Version
		}
		gd := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: name}}
		vd := apidiscoveryv2.APIVersionDiscovery{Version: version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		byName := map[string]int{}
		for _, ar := range s.resourceList(name, version).APIResources {
			parent, sub, isSub := strings.Cut(ar.Name, "/")
			gvk := &metav1.GroupVersionKind{Group: ar.Group, Version: ar.Version, Kind: ar.Kind}
			if gvk.Version == "" {
				gvk.Group, gvk.Version = name, version
			}
			if isSub {
				if i, ok := byName[parent]; ok {
					vd.Resources[i].Subresources = append(vd.Resources[i].Subresources, apidiscoveryv2.APISubresourceDiscovery{
						Subresource: sub, ResponseKind: gvk, Verbs: ar.Verbs})
				}
				continue
			}
			scope := apidiscoveryv2.ScopeCluster
			if ar.Namespaced {
				scope = apidiscoveryv2.ScopeNamespace
			}
			byName[ar.Name] = len(vd.Resources)
			vd.Resources = append(vd.Resources, apidiscoveryv2.APIResourceDiscovery{
				Resource: ar.Name, ResponseKind: gvk, Scope: scope, SingularResource: ar.SingularName,
				Verbs: ar.Verbs, ShortNames: ar.ShortNames, Categories: ar.Categories,
			})
		}
		gd.Versions = []apidiscoveryv2.APIVersionDiscovery{vd}
		out.Items = append(out.Items, gd)
	}
	return out
}

// categories are the kind's discovery categories: "all" for the workload
// and service kinds, as kube-apiserver lists them (kubectl get all).
func categories(kind string) []string {
	switch kind {
	case "Pod", "Service", "Deployment", "ReplicaSet", "Job", "DaemonSet", "StatefulSet", "CronJob", "ReplicationController":
		return []string{"all"}
	}
	return nil
}
