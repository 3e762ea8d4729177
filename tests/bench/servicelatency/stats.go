package servicelatency

import (
	"slices"
	"time"
)

// Stats summarises the latencies of one kind of operation.
type Stats struct {
	N         int     `json:"n"`
	Errors    int     `json:"errors"`
	P50us     float64 `json:"p50us"`
	P99us     float64 `json:"p99us"`
	MeanUs    float64 `json:"meanUs"`
	OpsPerSec float64 `json:"opsPerSec"` // one client, one operation at a time: 1/mean
}

func summarize(ns []int64, errors int) Stats {
	s := Stats{N: len(ns), Errors: errors}
	if len(ns) == 0 {
		return s
	}
	v := slices.Clone(ns)
	slices.Sort(v)
	var sum int64
	for _, x := range v {
		sum += x
	}
	s.P50us = us(v[len(v)/2])
	s.P99us = us(v[min(len(v)-1, len(v)*99/100)])
	s.MeanUs = float64(sum) / float64(len(v)) / 1e3
	if s.MeanUs > 0 {
		s.OpsPerSec = 1e6 / s.MeanUs
	}
	return s
}

func us(ns int64) float64 { return float64(ns) / 1e3 }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	v := slices.Clone(ds)
	slices.Sort(v)
	return v[len(v)/2]
}
