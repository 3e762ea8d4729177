package dns

import (
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

const cacheShards = 16

// cacheKey identifies a forwarded question. DO and CD change what an
// upstream returns, so they are part of the key.
type cacheKey struct {
	name  string // lowercase, fully qualified
	qtype uint16
	do    bool
	cd    bool
}

// answer is an upstream reply reduced to what is replayed to clients.
type answer struct {
	rcode          int
	ans, ns, extra []mdns.RR
}

// entry is a cached answer. Its records keep their TTLs as received; view
// holds copies aged to whole seconds, rebuilt at most once per second.
type entry struct {
	answer
	stored, expires time.Time
	view            atomic.Pointer[agedView]
}

type agedView struct {
	age uint32
	answer
}

// cache is a bounded, sharded TTL cache of upstream answers (RFC 2308
// negative answers included). When a shard is full an arbitrary entry is
// evicted, preferring expired ones.
type cache struct {
	shards [cacheShards]cacheShard
	per    int
}

type cacheShard struct {
	mu sync.Mutex
	m  map[cacheKey]*entry
}

func newCache(size int) *cache {
	c := &cache{per: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = map[cacheKey]*entry{}
	}
	return c
}

func (c *cache) shard(k cacheKey) *cacheShard {
	return &c.shards[shardOf(k.name)%cacheShards]
}

// get returns the answer for k aged to now, or false when absent or expired.
func (c *cache) get(k cacheKey, now time.Time) (answer, bool) {
	sh := c.shard(k)
	sh.mu.Lock()
	e := sh.m[k]
	if e != nil && !now.Before(e.expires) {
		delete(sh.m, k)
		e = nil
	}
	sh.mu.Unlock()
	if e == nil {
		return answer{}, false
	}
	return e.aged(now), true
}

// put stores a for ttl (no-op when ttl is zero).
func (c *cache) put(k cacheKey, a answer, ttl time.Duration, now time.Time) {
	if ttl <= 0 {
		return
	}
	a.ans, a.ns, a.extra = capped(a.ans), capped(a.ns), capped(a.extra)
	e := &entry{answer: a, stored: now, expires: now.Add(ttl)}
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[k]; !ok && len(sh.m) >= c.per {
		sh.evict(now)
	}
	sh.m[k] = e
}

func (sh *cacheShard) evict(now time.Time) {
	scanned := 0
	var victim cacheKey
	for k, e := range sh.m {
		if !now.Before(e.expires) {
			delete(sh.m, k)
			return
		}
		if scanned == 0 {
			victim = k
		}
		if scanned++; scanned >= 8 {
			break
		}
	}
	delete(sh.m, victim)
}

func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.Lock()
		n += len(c.shards[i].m)
		c.shards[i].mu.Unlock()
	}
	return n
}

func (e *entry) aged(now time.Time) answer {
	age := uint32(now.Sub(e.stored) / time.Second)
	if age == 0 {
		return e.answer
	}
	if v := e.view.Load(); v != nil && v.age == age {
		return v.answer
	}
	v := &agedView{age: age, answer: answer{
		rcode: e.rcode,
		ans:   ageRRs(e.ans, age),
		ns:    ageRRs(e.ns, age),
		extra: ageRRs(e.extra, age),
	}}
	e.view.Store(v)
	return v.answer
}

// ageRRs copies rrs with age seconds taken off their TTLs. The result's
// capacity equals its length, so appends by a reader never share memory.
func ageRRs(rrs []mdns.RR, age uint32) []mdns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]mdns.RR, len(rrs))
	for i, rr := range rrs {
		c := mdns.Copy(rr)
		h := c.Header()
		h.Ttl = h.Ttl - min(h.Ttl, age)
		out[i] = c
	}
	return out
}

// cacheTTL says how long an upstream reply may be cached: the smallest
// record TTL for positive answers, and for negative ones (NXDOMAIN or
// NODATA) the SOA's TTL capped by its minimum (RFC 2308 section 5). Replies
// that are truncated, failed, or negative without an SOA are not cached.
func cacheTTL(r *mdns.Msg, maxPos, maxNeg time.Duration) time.Duration {
	if r.Truncated || (r.Rcode != mdns.RcodeSuccess && r.Rcode != mdns.RcodeNameError) {
		return 0
	}
	negative := r.Rcode == mdns.RcodeNameError || len(r.Answer) == 0
	limit := maxPos
	ttl := uint32(1<<32 - 1)
	if negative {
		limit = maxNeg
		soa := findSOA(r.Ns)
		if soa == nil {
			return 0
		}
		ttl = min(soa.Hdr.Ttl, soa.Minttl)
	}
	for _, rr := range r.Answer {
		ttl = min(ttl, rr.Header().Ttl)
	}
	return min(time.Duration(ttl)*time.Second, limit)
}

func findSOA(rrs []mdns.RR) *mdns.SOA {
	for _, rr := range rrs {
		if soa, ok := rr.(*mdns.SOA); ok {
			return soa
		}
	}
	return nil
}

func capped(rrs []mdns.RR) []mdns.RR { return rrs[:len(rrs):len(rrs)] }
