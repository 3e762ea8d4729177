package servicelatency

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
)

// Options configure a run. Zero values get the full run's defaults.
type Options struct {
	Scales       []int        `json:"scales"`       // numbers of services
	KubeProxyMax int          `json:"kubeProxyMax"` // iptables and nftables only up to this scale
	Endpoints    int          `json:"endpoints"`    // endpoints of each non-measured service
	SyncBackends int          `json:"syncBackends"` // weir also syncs the scale with this many backends each (0: skip)
	Rounds       int          `json:"rounds"`       // rounds; each measures every mode once, in rotated order
	CRR          int          `json:"crr"`          // connect/request/response/close per target, mode and round
	RR           int          `json:"rr"`           // request/responses on one connection per target, mode and round
	UDP          int          `json:"udp"`          // UDP request/responses per target, mode and round
	Changes      int          `json:"changes"`      // timed one-service changes per mode and scale
	Modes        []string     `json:"modes"`        // subset of AllModes
	Iptables     string       `json:"iptables"`     // restore binary: iptables-legacy-restore or iptables-nft-restore
	Seed         uint64       `json:"seed"`         // random positions
	ClientArgv   []string     `json:"-"`            // argv that runs ChildMain (with ChildEnv=client)
	Logger       *slog.Logger `json:"-"`
	Progress     io.Writer    `json:"-"`
}

// Quick is the `--quick` preset: small samples, scales 1 and 1,000.
func Quick() Options {
	return Options{Scales: []int{1, 1000}, Rounds: 2, CRR: 200, RR: 400, UDP: 200, Changes: 2, SyncBackends: 10}
}

// Full is the default: every scale of the issue.
func Full() Options {
	return Options{Scales: []int{1, 1000, 10000, 30000, 100000}, Rounds: 6, CRR: 2000, RR: 5000, UDP: 1000, Changes: 4, SyncBackends: 10}
}

func (o Options) withDefaults() (Options, error) {
	f := Full()
	if len(o.Scales) == 0 {
		o.Scales = f.Scales
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.KubeProxyMax, 30000)
	def(&o.Endpoints, 1)
	def(&o.Rounds, f.Rounds)
	def(&o.CRR, f.CRR)
	def(&o.RR, f.RR)
	def(&o.UDP, f.UDP)
	def(&o.Changes, f.Changes)
	if len(o.Modes) == 0 {
		o.Modes = AllModes
	}
	for _, m := range o.Modes {
		if !slices.Contains(AllModes, m) {
			return o, fmt.Errorf("unknown mode %q: use %v", m, AllModes)
		}
	}
	for _, s := range o.Scales {
		if s < 1 || s > 500000 {
			return o, fmt.Errorf("scale %d: use 1..500000 services", s)
		}
	}
	if o.Iptables == "" {
		o.Iptables = "iptables-legacy-restore"
	}
	if len(o.ClientArgv) == 0 {
		return o, errors.New("servicelatency: ClientArgv is empty: pass the argv that re-executes this binary as the client")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o, nil
}
