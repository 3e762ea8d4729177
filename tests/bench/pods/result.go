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
	// Ready: create -> Running and Ready with an IP; Stages split it.
	Ready   Dist           `json:"createToReady"`
	Stages  []Stage        `json:"stages"`
	PerNode map[string]int `json:"podsPerNode"`
	// Groups split Ready and Stages into the bare pods and the pods with
	// volumes (created interleaved in the same run); empty with NoVolumes.
	Groups  []Group `json:"groups,omitempty"`
	GoalMet bool    `json:"goalMet"` // p50 <= 1 s and p99 <= 2 s
	// LoadAvg and LoadAvgAfter are the machine's 1-minute load average
	// before the pods were created and once all were Ready: other work on
	// a shared machine shows up in the figures.
	LoadAvg      float64 `json:"loadAverage1m"`
	LoadAvgAfter float64 `json:"loadAverage1mAfter"`
}

// Group is the startup of one kind of pod.
type Group struct {
	Name   string  `json:"name"`
	Pods   int     `json:"pods"`
	Ready  Dist    `json:"createToReady"`
	Stages []Stage `json:"stages"`
}

// Stage is one step of a pod's startup.
type Stage struct {
	Name string `json:"name"`
	Dist
}

// Dist is a latency distribution in milliseconds.
type Dist struct {
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// stageDefs are the steps between two points of a pod's timeline.
var stageDefs = []struct {
	name     string
	from, to func(*sample) time.Time
}{
	{"create -> bound (API write, scheduler, binding)", func(s *sample) time.Time { return s.Created }, func(s *sample) time.Time { return s.Bound }},
	{"bound -> container created (push to the agent, sandbox netns + weir-cni, snapshot, spec)", func(s *sample) time.Time { return s.Bound }, func(s *sample) time.Time { return s.Ctrd.Container }},
	{"container created -> task created (containerd shim, runc create)", func(s *sample) time.Time { return s.Ctrd.Container }, func(s *sample) time.Time { return s.Ctrd.TaskCreate }},
	{"task created -> started (runc start)", func(s *sample) time.Time { return s.Ctrd.TaskCreate }, func(s *sample) time.Time { return s.Ctrd.TaskStart }},
	{"started -> Ready seen (status report, API write, watch)", func(s *sample) time.Time { return s.Ctrd.TaskStart }, func(s *sample) time.Time { return s.Ready }},
	{"(bound -> pod IP seen)", func(s *sample) time.Time { return s.Bound }, func(s *sample) time.Time { return s.IP }},
}

func summarize(cfg Config, samples []sample) Result {
	r := Result{Pods: len(samples), Nodes: cfg.Nodes, Rate: cfg.Rate, PerNode: map[string]int{}}
	var ready []time.Duration
	for i := range samples {
		ready = append(ready, samples[i].Ready.Sub(samples[i].Created))
		r.PerNode[samples[i].Node]++
	}
	r.Ready = dist(ready)
	r.Stages = stages(samples)
	if !cfg.NoVolumes {
		for _, g := range []struct {
			name string
			vols bool
		}{{"bare", false}, {"configMap + secret + emptyDir + projected token", true}} {
			var part []sample
			var ready []time.Duration
			for _, s := range samples {
				if s.Volumes == g.vols {
					part = append(part, s)
					ready = append(ready, s.Ready.Sub(s.Created))
				}
			}
			r.Groups = append(r.Groups, Group{Name: g.name, Pods: len(part), Ready: dist(ready), Stages: stages(part)})
		}
	}
	r.GoalMet = r.Ready.P50Ms <= 1000 && r.Ready.P99Ms <= 2000
	return r
}

// stages splits samples' startup into stageDefs.
func stages(samples []sample) []Stage {
	var out []Stage
	for _, def := range stageDefs {
		var d []time.Duration
		for i := range samples {
			from, to := def.from(&samples[i]), def.to(&samples[i])
			if !from.IsZero() && !to.IsZero() {
				d = append(d, to.Sub(from))
			}
		}
		out = append(out, Stage{Name: def.name, Dist: dist(d)})
	}
	return out
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
