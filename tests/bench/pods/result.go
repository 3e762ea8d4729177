package pods

import (
	"sort"
	"time"
)

// Result is what a run measured; it is written as docs/bench/pods.json.
type Result struct {
	Command string  `json:"command"`
	Date    string  `json:"date"`
	Cores   int     `json:"cores"`
	Weir    string  `json:"weir"`
	Pods    int     `json:"pods"`
	Nodes   int     `json:"nodes"`
	Rate    float64 `json:"ratePerSecond"` // pods created per second (negative: all at once)
	// Ready: create -> Running and Ready with an IP; the stages split it.
	Ready     Dist           `json:"createToReady"`
	Scheduled Dist           `json:"createToBound"`
	Started   Dist           `json:"boundToPodIP"`
	ReadyGap  Dist           `json:"podIPToReady"`
	PerNode   map[string]int `json:"podsPerNode"`
	GoalMet   bool           `json:"goalMet"` // p50 <= 1 s and p99 <= 2 s
	// LoadAvg is the machine's 1-minute load average when the pods were
	// created: other work on a shared machine shows up in the figures.
	LoadAvg float64 `json:"loadAverage1m"`
}

// Dist is a latency distribution in milliseconds.
type Dist struct {
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

func summarize(cfg Config, samples []sample) Result {
	r := Result{Pods: len(samples), Nodes: cfg.Nodes, Rate: cfg.Rate, PerNode: map[string]int{}}
	var ready, bound, started, gap []time.Duration
	for _, s := range samples {
		ready = append(ready, s.Ready.Sub(s.Created))
		bound = append(bound, s.Bound.Sub(s.Created))
		started = append(started, s.IP.Sub(s.Bound))
		gap = append(gap, s.Ready.Sub(s.IP))
		r.PerNode[s.Node]++
	}
	r.Ready, r.Scheduled, r.Started, r.ReadyGap = dist(ready), dist(bound), dist(started), dist(gap)
	r.GoalMet = r.Ready.P50Ms <= 1000 && r.Ready.P99Ms <= 2000
	return r
}

// dist is the p50/p99/max of d (nearest rank).
func dist(d []time.Duration) Dist {
	if len(d) == 0 {
		return Dist{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.999999) - 1
		return ms(d[max(0, min(i, len(d)-1))])
	}
	return Dist{P50Ms: at(0.50), P99Ms: at(0.99), MaxMs: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
