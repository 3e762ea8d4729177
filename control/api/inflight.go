package api

import (
	"context"
	"net/http"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
)

// InFlightLimits caps the requests the API serves at once, as
// kube-apiserver's --max-requests-inflight and
// --max-mutating-requests-inflight do, plus a per-identity share so that
// one client cannot take every slot. Long-running requests (watches,
// exec, attach, port-forward, proxy, logs that follow) are not counted.
// A request over a cap is answered 429 with Retry-After.
type InFlightLimits struct {
	ReadOnly int // default 400; negative: no limit
	Mutating int // default 200; negative: no limit
	// PerUser is the share of each cap one identity may hold, in percent
	// (default 50); unauthenticated requests to the public paths share
	// the identity system:anonymous.
	PerUserPercent int
}

// Defaults of InFlightLimits.
const (
	DefaultMaxRequestsInFlight         = 400
	DefaultMaxMutatingRequestsInFlight = 200
	defaultPerUserPercent              = 50
)

// inflight is the limiter: one pool for reads, one for writes, each with
// per-user counts.
type inflight struct {
	pools [2]*inflightPool // 0: read-only, 1: mutating
}

type inflightPool struct {
	limit, perUser int // 0: unlimited
	mu             sync.Mutex
	n              int
	users          map[string]int
}

func newInflight(l InFlightLimits) *inflight {
	pool := func(limit, def int) *inflightPool {
		if limit == 0 {
			limit = def
		}
		if limit < 0 {
			return &inflightPool{}
		}
		pct := l.PerUserPercent
		if pct <= 0 || pct > 100 {
			pct = defaultPerUserPercent
		}
		return &inflightPool{limit: limit, perUser: max(1, limit*pct/100), users: map[string]int{}}
	}
	return &inflight{pools: [2]*inflightPool{pool(l.ReadOnly, DefaultMaxRequestsInFlight), pool(l.Mutating, DefaultMaxMutatingRequestsInFlight)}}
}

// acquire takes a slot for user; false when the pool or the user's share
// is full.
func (p *inflightPool) acquire(user string) bool {
	if p.limit == 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n >= p.limit || p.users[user] >= p.perUser {
		return false
	}
	p.n++
	p.users[user]++
	return true
}

func (p *inflightPool) release(user string) {
	if p.limit == 0 {
		return
	}
	p.mu.Lock()
	p.n--
	if p.users[user]--; p.users[user] <= 0 {
		delete(p.users, user)
	}
	p.mu.Unlock()
}

// longRunningVerbs and longRunningSubresources are kube-apiserver's
// default long-running request check (--long-running-request-regexp).
var (
	longRunningVerbs        = sets.NewString("watch", "proxy")
	longRunningSubresources = sets.NewString("attach", "exec", "proxy", "log", "portforward")
)

// IsLongRunning reports whether r is a request that may outlive the
// server's request timeouts: a watch, exec, attach, port-forward, proxy,
// a log stream, or any connection upgrade. The in-flight limits skip
// them; the HTTP server lifts its deadlines for them.
func IsLongRunning(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return true
	}
	if w := r.URL.Query().Get("watch"); w == "true" || w == "1" {
		return true
	}
	info, err := requestInfos.NewRequestInfo(r)
	if err != nil || !info.IsResourceRequest {
		return false
	}
	return longRunningVerbs.Has(info.Verb) || longRunningSubresources.Has(info.Subresource)
}

// errTooManyRequests is kube-apiserver's 429 from its in-flight filter.
func errTooManyRequests() *apierrors.StatusError {
	return apierrors.NewTooManyRequests("Too many requests, please try again later.", 1)
}

// inflightMiddleware applies the in-flight limits; it runs after
// authentication so that each identity has its own share. It also hands
// the response headers to the handlers that may add a Warning (stale
// reads from a lagging member).
func (s *Server) inflightMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), warningKey{}, w.Header()))
		if IsLongRunning(r) {
			next.ServeHTTP(w, r)
			return
		}
		pool := s.inflight.pools[0]
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			pool = s.inflight.pools[1]
		}
		name := "system:anonymous"
		if u := userFrom(r); u != nil {
			name = u.GetName()
		}
		if !pool.acquire(name) {
			s.metrics.rejected.Inc()
			s.writeError(w, r, errTooManyRequests())
			return
		}
		defer pool.release(name)
		next.ServeHTTP(w, r)
	})
}
