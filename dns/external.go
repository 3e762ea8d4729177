package dns

import (
	"context"
	"sync"
	"time"
)

// flights lets identical questions being forwarded at the same time share
// one upstream exchange.
type flights struct {
	mu sync.Mutex
	m  map[cacheKey]*flight
}

type flight struct {
	done chan struct{}
	a    answer
	err  error
}

// do runs fn once per key at a time; later callers wait for its result
// (or for their own ctx).
func (f *flights) do(ctx context.Context, k cacheKey, fn func() (answer, error)) (answer, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[cacheKey]*flight{}
	}
	if fl, ok := f.m[k]; ok {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.a, fl.err
		case <-ctx.Done():
			return answer{}, ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	f.m[k] = fl
	f.mu.Unlock()
	fl.a, fl.err = fn()
	f.mu.Lock()
	delete(f.m, k)
	f.mu.Unlock()
	close(fl.done)
	return fl.a, fl.err
}

// cached returns a cached answer, counting the hit or miss.
func (s *Server) cached(k cacheKey) (answer, bool) {
	a, ok := s.cache.get(k, time.Now())
	if ok {
		s.m.cacheHit.Inc()
	} else {
		s.m.cacheMiss.Inc()
	}
	return a, ok
}

// external resolves a question outside the zone: from the cache, else
// from the upstreams (caching the reply). It blocks for at most the
// upstream timeout. Callers count the cache miss (see cached).
func (s *Server) external(ctx context.Context, k cacheKey) (answer, error) {
	if a, ok := s.cache.get(k, time.Now()); ok {
		return a, nil
	}
	return s.flights.do(ctx, k, func() (answer, error) {
		r, err := s.fwd.exchange(ctx, k)
		if err != nil {
			return answer{}, err
		}
		a := answerOf(r)
		s.cache.put(k, a, cacheTTL(r, s.cfg.MaxCacheTTL, s.cfg.MaxNegativeTTL), time.Now())
		return a, nil
	})
}
