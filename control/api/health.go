package api

import (
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/version"
)

// Kubernetes API level weir's types follow (k8s.io/api v0.37).
const (
	kubeMajor = "1"
	kubeMinor = "37"
)

// serveHealth answers the probes and /version. /healthz and /livez say the
// process serves; /readyz also asks the cluster whether this member has a
// leader and keeps up with it: a member that lags or cannot apply (a full
// disk) answers 503 "not ready: ... lagging ... cannot apply: <cause>".
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	setLabels(r.Context(), "get", r.URL.Path[1:])
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, r, errMethodNotAllowed())
		return
	}
	switch r.URL.Path {
	case "/version":
		s.writeObject(w, r, http.StatusOK, s.versionInfo())
		return
	case "/readyz":
		if s.cfg.Cluster != nil {
			if err := s.cfg.Cluster.Ready(); err != nil {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "not ready: %v\n", err)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// versionInfo is what /version tells anyone, credentials or not: the
// Kubernetes API level and weir's version, no build details (Go version,
// compiler, platform, commit) that would help an attacker pick exploits.
func (s *Server) versionInfo() version.Info {
	return version.Info{
		Major:      kubeMajor,
		Minor:      kubeMinor,
		GitVersion: "v" + kubeMajor + "." + kubeMinor + ".0+weir-" + s.cfg.Version,
	}
}
