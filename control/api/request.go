package api

import (
	"net/http"
	"strings"
)

// request is a parsed resource request.
type request struct {
	discovery bool
	verb      string // get, list, watch, create, update, patch, delete
	res       *resource
	namespace string
	name      string
	sub       string // subresource: "", "status", "binding", "eviction", "scale"
	dryRun    bool
	// fieldManager (?fieldManager=) and userAgent name the manager of
	// managedFields (fieldmanager.go); apply marks server-side apply.
	fieldManager, userAgent string
	apply                   bool
}

// parseRequest turns /api/v1/... and /apis/<group>/<version>/... paths
// into a request, with Kubernetes' rules for namespaces.
func (s *Server) parseRequest(r *http.Request) (*request, error) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for _, p := range parts {
		if p == "" {
			return nil, errNoRoute()
		}
		if strings.IndexFunc(p, func(c rune) bool { return c < 0x20 || c == 0x7f }) >= 0 {
			return nil, errBadRequest("the request path contains a control character")
		}
	}
	var group, version string
	var rest []string
	switch {
	case parts[0] == "api" && len(parts) >= 2:
		version, rest = parts[1], parts[2:]
	case parts[0] == "apis" && len(parts) >= 2:
		group = parts[1]
		if len(parts) == 2 {
			return &request{discovery: true}, nil
		}
		version, rest = parts[2], parts[3:]
	default:
		return nil, errNoRoute()
	}
	if len(rest) == 0 {
		return &request{discovery: true}, nil
	}
	rq := &request{}
	if len(rest) >= 2 && rest[0] == "namespaces" {
		if len(rest) == 2 || len(rest) == 3 && rest[2] == "status" {
			rq.name = rest[1]
			if len(rest) == 3 {
				rq.sub = rest[2]
			}
			rest = rest[:1]
		} else {
			rq.namespace, rest = rest[1], rest[2:]
		}
	}
	if len(rest) > 3 {
		return nil, errNoRoute()
	}
	rq.res = s.reg.get(group, version, rest[0])
	if rq.res == nil {
		return nil, errNoRoute()
	}
	if len(rest) >= 2 {
		rq.name = rest[1]
	}
	if len(rest) == 3 {
		rq.sub = rest[2]
	}
	if err := rq.checkScope(); err != nil {
		return nil, err
	}
	if err := rq.setVerb(r); err != nil {
		return nil, err
	}
	if err := rq.parseDryRun(r); err != nil {
		return nil, err
	}
	return rq, rq.parseFieldManager(r)
}

func (rq *request) checkScope() error {
	if rq.namespace != "" && !rq.res.Namespaced {
		return errNoRoute()
	}
	if rq.res.Namespaced && rq.namespace == "" && rq.name != "" {
		return errNoRoute()
	}
	if rq.sub != "" && !rq.res.hasSub(rq.sub) {
		return errNoRoute()
	}
	if rq.name == "" && rq.sub != "" {
		return errNoRoute()
	}
	return nil
}

// setVerb derives the Kubernetes verb from the method and path shape.
func (rq *request) setVerb(r *http.Request) error {
	if isProxySub(rq.sub) {
		return rq.setProxyVerb(r)
	}
	item, m := rq.name != "", r.Method
	switch {
	case m == http.MethodGet && !item:
		rq.verb = "list"
		if v := r.URL.Query().Get("watch"); v == "true" || v == "1" {
			rq.verb = "watch"
		}
	case m == http.MethodGet && !createOnly(rq.sub):
		rq.verb = "get"
	case m == http.MethodPost && !item && (rq.res.Namespaced == (rq.namespace != "")):
		rq.verb = "create"
	case m == http.MethodPost && createOnly(rq.sub):
		rq.verb = "create"
	case m == http.MethodPut && item && !createOnly(rq.sub):
		rq.verb = "update"
	case m == http.MethodPatch && item && !createOnly(rq.sub):
		rq.verb = "patch"
	case m == http.MethodDelete && item && rq.sub == "":
		rq.verb = "delete"
	default:
		return errMethodNotAllowed()
	}
	return nil
}

// createOnly reports whether a subresource takes POST only.
func createOnly(sub string) bool { return sub == "binding" || sub == "token" || sub == "eviction" }

func (rq *request) parseDryRun(r *http.Request) error {
	for _, v := range r.URL.Query()["dryRun"] {
		if v != "All" {
			return errBadRequest("invalid dryRun value %q: the only supported value is All", v)
		}
		rq.dryRun = true
	}
	return nil
}
