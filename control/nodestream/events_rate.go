package nodestream

import "time"

// eventRate bounds the pod events one session writes per second (with a
// burst of as many); beyond it they are dropped.
const eventRate = 50

// eventLimiter is a token bucket of eventRate per second, owned by a
// session's receive loop (not safe for concurrent use). The zero value is
// full.
type eventLimiter struct {
	started  bool
	tokens   float64
	last     time.Time
	dropped  int       // dropped since the last warning
	lastWarn time.Time // of a drop warning
}

// allow takes a token if there is one.
func (l *eventLimiter) allow(now time.Time) bool {
	if !l.started {
		l.started, l.tokens, l.last = true, eventRate, now
	}
	if d := now.Sub(l.last); d > 0 {
		l.tokens = min(eventRate, l.tokens+d.Seconds()*eventRate)
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// noteDrop counts a dropped event; it returns the drops to warn about
// (at most one warning per 10 s), else 0.
func (l *eventLimiter) noteDrop(now time.Time) int {
	l.dropped++
	if !l.lastWarn.IsZero() && now.Sub(l.lastWarn) < 10*time.Second {
		return 0
	}
	n := l.dropped
	l.dropped, l.lastWarn = 0, now
	return n
}
