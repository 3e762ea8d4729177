package api

import (
	"net/http"
	"net/http/pprof"
	pprofprofile "runtime/pprof"
	"strings"
)

// serveProfiling answers /debug/pprof/ as kube-apiserver does with
// --profiling: Go's runtime profiles, for callers RBAC allows `get` on the
// non-resource URL (cluster-admin; no default role of a user or component
// has it). A CPU profile or trace longer than the server's write timeout
// (60 s) is cut.
func (s *Server) serveProfiling(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.writeError(w, r, errMethodNotAllowed())
		return
	}
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "":
		pprof.Index(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		if pprofprofile.Lookup(name) == nil {
			s.writeError(w, r, errNoRoute())
			return
		}
		pprof.Handler(name).ServeHTTP(w, r)
	}
}
