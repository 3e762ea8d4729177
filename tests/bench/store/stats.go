package store

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Stats are the measured figures of one system in one cell.
type Stats struct {
	Ops        int     `json:"ops"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"writesPerSec"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	FirstError string  `json:"firstError,omitempty"`
	// Elections is how much the raft term grew during the cell (leader
	// changes; 0 when the leader held).
	Elections uint64 `json:"elections"`
}

// opTimeout bounds one write, so that a stalled cluster shows up as
// errors in its cell instead of stretching the run.
const opTimeout = 30 * time.Second

// opFunc performs one write; worker and seq make names unique.
type opFunc func(ctx context.Context, worker, seq int) error

type workerLog struct {
	lat      []time.Duration
	errs     int
	firstErr error
}

// drive runs a closed loop of `clients` workers calling op: a warm-up, then
// a measured window of length dur. Only operations that start and end
// inside the window count.
func drive(ctx context.Context, clients int, warmup, dur time.Duration, op opFunc) Stats {
	from := time.Now().Add(warmup)
	to := from.Add(dur)
	logs := make([]workerLog, clients)
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &logs[w]
			for seq := 0; ctx.Err() == nil; seq++ {
				t0 := time.Now()
				if !t0.Before(to) {
					return
				}
				octx, cancel := context.WithTimeout(ctx, opTimeout)
				err := op(octx, w, seq)
				cancel()
				t1 := time.Now()
				if t0.Before(from) || t1.After(to) {
					continue
				}
				if err != nil {
					l.errs++
					if l.firstErr == nil {
						l.firstErr = err
					}
					continue
				}
				l.lat = append(l.lat, t1.Sub(t0))
			}
		}()
	}
	wg.Wait()
	return summarize(logs, dur)
}

func summarize(logs []workerLog, dur time.Duration) Stats {
	var all []time.Duration
	st := Stats{Seconds: dur.Seconds()}
	for _, l := range logs {
		all = append(all, l.lat...)
		st.Errors += l.errs
		if l.firstErr != nil && st.FirstError == "" {
			st.FirstError = l.firstErr.Error()
		}
	}
	st.Ops = len(all)
	st.PerSec = float64(st.Ops) / dur.Seconds()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	st.P50Ms = ms(percentile(all, 0.50))
	st.P99Ms = ms(percentile(all, 0.99))
	return st
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
