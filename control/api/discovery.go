package api

import (
	"net/http"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var objectVerbs = metav1.Verbs{"create", "delete", "get", "list", "patch", "update", "watch"}

// serveDiscovery answers /api, /apis, /apis/<group> and the resource lists
// of /api/v1 and /apis/<group>/<version>.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	setLabels(r.Context(), "get", "discovery")
	if r.Method != http.MethodGet {
		s.writeError(w, r, errMethodNotAllowed(r.Method, r.URL.Path))
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
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
	sort.Strings(names)
	for _, n := range names {
		l.Groups = append(l.Groups, *s.group(n))
	}
	return l
}

// group describes one named group; weir serves one version per group.
func (s *Server) group(name string) *metav1.APIGroup {
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
			Kind: res.Kind, Verbs: objectVerbs, ShortNames: res.ShortNames,
		})
		for _, sub := range res.subs {
			l.APIResources = append(l.APIResources, subresourceInfo(res, sub))
		}
	}
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
	case "exec":
		ar.Kind, ar.Verbs = "PodExecOptions", metav1.Verbs{"create"}
	case "scale":
		ar.Group, ar.Version, ar.Kind = "autoscaling", "v1", "Scale"
	}
	return ar
}
