package dns

import (
	"context"
	"encoding/binary"
	"net/netip"
	"time"

	mdns "github.com/miekg/dns"
)

const headerSize = 12

// serveWire answers one packet from src: the reply packed into out's
// memory, or nil for no reply. When the answer needs the upstreams it
// returns the pending query instead; finish it with forwardWire.
func (s *Server) serveWire(pkt []byte, src netip.Addr, tcp bool, out []byte) ([]byte, *query) {
	start := time.Now()
	req := new(mdns.Msg)
	if err := req.Unpack(pkt); err != nil {
		return s.formErr(pkt, start, out), nil
	}
	q := &query{req: req, src: src, tcp: tcp, start: start}
	resp, pending := s.local(q)
	if pending {
		return nil, q
	}
	if resp == nil {
		return nil, nil
	}
	return s.finish(q, resp, out), nil
}

// forwardWire completes a pending query; it blocks for at most the
// upstream timeout.
func (s *Server) forwardWire(ctx context.Context, q *query, out []byte) []byte {
	return s.finish(q, s.remote(ctx, q), out)
}

// refuseWire answers a pending query with SERVFAIL at once (used when too
// many questions are being forwarded already).
func (s *Server) refuseWire(q *query, out []byte) []byte {
	return s.finish(q, new(mdns.Msg).SetRcode(q.req, mdns.RcodeServerFailure), out)
}

// formErr answers a packet that does not parse: FORMERR when its header
// is readable and it is a query, otherwise nothing (a reply to garbage
// only helps reflection attacks).
func (s *Server) formErr(pkt []byte, start time.Time, out []byte) []byte {
	if len(pkt) < headerSize || pkt[2]&0x80 != 0 {
		return nil
	}
	resp := &mdns.Msg{MsgHdr: mdns.MsgHdr{
		Id:       binary.BigEndian.Uint16(pkt),
		Response: true,
		Opcode:   int(pkt[2]>>3) & 0xF,
		Rcode:    mdns.RcodeFormatError,
	}}
	wire, err := resp.PackBuffer(out)
	if err != nil {
		return nil
	}
	s.m.query(0, mdns.RcodeFormatError, time.Since(start).Seconds())
	return wire
}

// finish applies EDNS0 and the size limit to resp, packs it and counts it.
func (s *Server) finish(q *query, resp *mdns.Msg, out []byte) []byte {
	resp.RecursionAvailable = true
	size := mdns.MinMsgSize
	if q.tcp {
		size = mdns.MaxMsgSize
	}
	if opt := q.req.IsEdns0(); opt != nil {
		if !q.tcp {
			size = min(max(int(opt.UDPSize()), mdns.MinMsgSize), s.cfg.MaxUDPSize)
		}
		resp.SetEdns0(uint16(s.cfg.MaxUDPSize), opt.Do())
	}
	resp.Truncate(size)
	wire, err := resp.PackBuffer(out)
	if err != nil {
		s.log.Warn("pack reply", "question", q.req.Question, "err", err)
		fail := new(mdns.Msg).SetRcode(q.req, mdns.RcodeServerFailure)
		if wire, err = fail.PackBuffer(out); err != nil {
			return nil
		}
		resp = fail
	}
	var qtype uint16
	if len(q.req.Question) > 0 {
		qtype = q.req.Question[0].Qtype
	}
	s.m.query(qtype, resp.Rcode, time.Since(q.start).Seconds())
	return wire
}
