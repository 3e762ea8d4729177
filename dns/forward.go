package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

// ErrUpstreams means no upstream resolver gave a usable answer in time.
var ErrUpstreams = errors.New("dns: all upstream resolvers failed")

// upstreamUDPSize is the EDNS0 buffer advertised to upstreams (the DNS
// flag day 2020 value, which avoids IP fragmentation).
const upstreamUDPSize = 1232

// forwarder asks the upstream resolvers in order, starting with the one
// that answered last, and fails over on any unusable reply.
type forwarder struct {
	upstreams []string
	timeout   time.Duration
	preferred atomic.Int32
	lastWarn  atomic.Int64 // unix nanoseconds of the last warning logged
	m         *metrics
	log       *slog.Logger
}

// exchange resolves one question. The whole attempt, over all upstreams,
// ends within f.timeout; each upstream gets an equal share of what is left.
func (f *forwarder) exchange(ctx context.Context, k cacheKey) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	q := new(mdns.Msg)
	q.SetQuestion(k.name, k.qtype)
	q.CheckingDisabled = k.cd
	q.SetEdns0(upstreamUDPSize, k.do)
	n := len(f.upstreams)
	first := int(f.preferred.Load())
	var errs []error
	for i := range n {
		idx := (first + i) % n
		up := f.upstreams[idx]
		dl, _ := ctx.Deadline()
		share := time.Until(dl) / time.Duration(n-i)
		if share <= 0 {
			errs = append(errs, fmt.Errorf("%s: %w", up, context.DeadlineExceeded))
			break
		}
		r, err := f.try(ctx, q, up, share)
		if err == nil {
			f.m.upstream.WithLabelValues(up, "ok").Inc()
			f.preferred.Store(int32(idx))
			return r, nil
		}
		f.m.upstream.WithLabelValues(up, "error").Inc()
		errs = append(errs, fmt.Errorf("%s: %w", up, err))
	}
	err := fmt.Errorf("%w for %s %s: %w", ErrUpstreams, k.name, mdns.TypeToString[k.qtype], errors.Join(errs...))
	f.report(err)
	return nil, err
}

// report logs a failed forward: a warning at most every 10 s, the rest
// at debug level, so a dead upstream does not flood the log.
func (f *forwarder) report(err error) {
	now := time.Now().UnixNano()
	last := f.lastWarn.Load()
	if now-last > int64(10*time.Second) && f.lastWarn.CompareAndSwap(last, now) {
		f.log.Warn("forwarding failed; clients get SERVFAIL (check the upstreams)", "err", err)
		return
	}
	f.log.Debug("forwarding failed", "err", err)
}

// try asks one upstream over UDP, and over TCP when the reply is truncated.
func (f *forwarder) try(ctx context.Context, q *mdns.Msg, up string, timeout time.Duration) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := exchangeOnce(ctx, "udp", q, up, timeout)
	if err == nil && r.Truncated {
		r, err = exchangeOnce(ctx, "tcp", q, up, timeout)
	}
	if err != nil {
		return nil, err
	}
	return r, usable(q, r)
}

// exchangeOnce sends q over a fresh connection (a fresh source port for
// every UDP question). Cancelling ctx interrupts the wait for the reply.
func exchangeOnce(ctx context.Context, network string, q *mdns.Msg, up string, timeout time.Duration) (*mdns.Msg, error) {
	c := &mdns.Client{Net: network, UDPSize: upstreamUDPSize, Timeout: timeout}
	co, err := c.DialContext(ctx, up)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	stop := context.AfterFunc(ctx, func() { _ = co.SetDeadline(time.Now()) })
	defer stop()
	r, _, err := c.ExchangeWithConnContext(ctx, q, co)
	return r, err
}

// usable rejects replies that do not answer the question asked, and
// failures that another upstream may not share.
func usable(q, r *mdns.Msg) error {
	if !r.Response || r.Opcode != mdns.OpcodeQuery || len(r.Question) != 1 {
		return errors.New("malformed reply")
	}
	a, b := q.Question[0], r.Question[0]
	if !strings.EqualFold(a.Name, b.Name) || a.Qtype != b.Qtype || a.Qclass != b.Qclass {
		return fmt.Errorf("reply for another question (%s %s)", b.Name, mdns.TypeToString[b.Qtype])
	}
	switch r.Rcode {
	case mdns.RcodeSuccess, mdns.RcodeNameError:
		return nil
	}
	return fmt.Errorf("rcode %s", rcodeLabel(r.Rcode))
}

// answerOf strips what must not be replayed: OPT records and the TSIG.
func answerOf(r *mdns.Msg) answer {
	a := answer{rcode: r.Rcode, ans: r.Answer, ns: r.Ns}
	for _, rr := range r.Extra {
		switch rr.Header().Rrtype {
		case mdns.TypeOPT, mdns.TypeTSIG, mdns.TypeSIG:
			continue
		}
		a.extra = append(a.extra, rr)
	}
	return a
}
