package dns

import (
	"context"
	"net/netip"
	"time"

	mdns "github.com/miekg/dns"
)

// query is one question being answered, from receipt to reply.
type query struct {
	req   *mdns.Msg
	src   netip.Addr
	tcp   bool
	start time.Time
	// key and prefix are set when the answer needs the upstreams: key is
	// the question to forward, prefix the zone's CNAME chain leading to it.
	key    cacheKey
	prefix []mdns.RR
}

// local answers what needs no upstream exchange. It returns the reply; or
// pending when q.key must be forwarded; or neither when the packet gets no
// reply at all.
func (s *Server) local(q *query) (resp *mdns.Msg, pending bool) {
	if q.req.Response {
		return nil, false // never answer answers: that is how loops start
	}
	if rc := check(q.req); rc != mdns.RcodeSuccess {
		return new(mdns.Msg).SetRcode(q.req, rc), false
	}
	if !s.allowed(q.src) {
		return new(mdns.Msg).SetRcode(q.req, mdns.RcodeRefused), false
	}
	qs := q.req.Question[0]
	name := lower(qs.Name)
	ix := s.idx.Load()
	zoneName := inZone(name, s.cfg.Zone)
	if zoneName || (qs.Qtype == mdns.TypePTR && isReverse(name)) {
		if ix == nil {
			return new(mdns.Msg).SetRcode(q.req, mdns.RcodeServerFailure), false
		}
		if zoneName || ix.node(name) != nil {
			res := ix.resolve(name, qs.Qtype)
			if res.chase == "" || len(s.cfg.Upstreams) == 0 {
				return s.zoneReply(q, name, res), false
			}
			q.prefix = fixCase(res.ans, qs.Name, name)
			name = res.chase
		}
	}
	return s.toUpstream(q, name)
}

func (s *Server) toUpstream(q *query, name string) (*mdns.Msg, bool) {
	if len(s.cfg.Upstreams) == 0 {
		return new(mdns.Msg).SetRcode(q.req, mdns.RcodeRefused), false
	}
	do := false
	if opt := q.req.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	q.key = cacheKey{name: name, qtype: q.req.Question[0].Qtype, do: do, cd: q.req.CheckingDisabled}
	if a, ok := s.cached(q.key); ok {
		return s.upstreamReply(q, a), false
	}
	return nil, true
}

// remote finishes a pending query through the upstreams.
func (s *Server) remote(ctx context.Context, q *query) *mdns.Msg {
	a, err := s.external(ctx, q.key)
	if err != nil {
		return new(mdns.Msg).SetRcode(q.req, mdns.RcodeServerFailure)
	}
	return s.upstreamReply(q, a)
}

func (s *Server) zoneReply(q *query, name string, res result) *mdns.Msg {
	resp := new(mdns.Msg).SetRcode(q.req, res.rcode)
	resp.Authoritative = true
	resp.Answer = fixCase(res.ans, q.req.Question[0].Name, name)
	resp.Ns = res.ns
	resp.Extra = res.extra
	return resp
}

func (s *Server) upstreamReply(q *query, a answer) *mdns.Msg {
	resp := new(mdns.Msg).SetRcode(q.req, a.rcode)
	resp.Answer = a.ans
	if q.prefix != nil {
		resp.Answer = append(q.prefix[:len(q.prefix):len(q.prefix)], a.ans...)
	}
	resp.Ns, resp.Extra = a.ns, a.extra
	return resp
}

// fixCase gives the records owned by the question's name the question's
// spelling (0x20-randomizing resolvers compare it).
func fixCase(rrs []mdns.RR, asked, name string) []mdns.RR {
	if asked == name {
		return rrs
	}
	out := make([]mdns.RR, len(rrs))
	for i, rr := range rrs {
		if rr.Header().Name == name {
			rr = withName(rr, asked)
		}
		out[i] = rr
	}
	return out
}

// check validates a query; it returns the error rcode, or success.
func check(req *mdns.Msg) int {
	if req.Opcode != mdns.OpcodeQuery {
		return mdns.RcodeNotImplemented
	}
	if len(req.Question) != 1 {
		return mdns.RcodeFormatError
	}
	opts := 0
	for _, rr := range req.Extra {
		if rr.Header().Rrtype == mdns.TypeOPT {
			opts++
		}
	}
	if opts > 1 {
		return mdns.RcodeFormatError
	}
	if opt := req.IsEdns0(); opt != nil && opt.Version() != 0 {
		return mdns.RcodeBadVers
	}
	qs := req.Question[0]
	switch {
	case qs.Qtype == mdns.TypeOPT:
		return mdns.RcodeFormatError
	case qs.Qclass != mdns.ClassINET:
		return mdns.RcodeRefused
	case qs.Qtype == mdns.TypeAXFR || qs.Qtype == mdns.TypeIXFR:
		return mdns.RcodeRefused
	}
	return mdns.RcodeSuccess
}

func (s *Server) allowed(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() {
		return true
	}
	for _, p := range s.cfg.AllowedNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
