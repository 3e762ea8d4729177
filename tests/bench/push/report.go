package push

import (
	"fmt"
	"strings"

	"github.com/weirnet/weir/tests/benchreport"
)

func report(cfg Config, r Result) error {
	if cfg.JSONDir != "" {
		if err := benchreport.WriteJSON(cfg.JSONDir, "push", r); err != nil {
			return err
		}
	}
	if cfg.Out == "" {
		return nil
	}
	return benchreport.UpdateSection(cfg.Out, "push", markdown(r))
}

func markdown(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Node stream push (`%s`)\n\n", r.Command)
	fmt.Fprintf(&b, "%s, %d cores, weir %s. %d agents (in-process node-stream clients: decode + ACK, heartbeats every 2 s, no kernel programming) spread over %d `weir server` members on loopback; EndpointSlice writes through the API of the members in turn.\n\n",
		r.Date, r.Cores, r.Weir, r.Agents, r.Members)
	b.WriteString("| | p50 | p99 | max |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| single change: write -> last agent's ACK (%d changes) | %.1f ms | %.1f ms | %.1f ms |\n", r.Single.Changes, r.Single.P50Ms, r.Single.P99Ms, r.Single.MaxMs)
	fmt.Fprintf(&b, "| (the API write alone) | %.1f ms | | |\n", r.Single.WriteP50Ms)
	fmt.Fprintf(&b, "| (write -> the first agent's ACK) | %.1f ms | %.1f ms | |\n\n", r.Single.FirstP50Ms, r.Single.FirstP99Ms)
	fmt.Fprintf(&b, "Goal: p99 <= 100 ms for single changes at 100 agents: **%s**.\n\n", verdict(r))
	fmt.Fprintf(&b, "Bursts of %d changes (%d concurrent writers over 50 slices), per burst: first write -> last ACK of the final version %s ms; of which writing %s ms and the tail after the last write %s ms.\n\n",
		r.Burst.Size, r.Burst.Writers, joinMs(r.Burst.TotalMs), joinMs(r.Burst.WritesMs), joinMs(r.Burst.TailMs))
	x := r.Resources
	fmt.Fprintf(&b, "Control plane (3 members together): RSS %d KiB before the agents, %d KiB with them: %.0f KiB per connected agent; idle CPU with %d agents heartbeating %.1f%% of a core (%.2f‰ per agent); CPU per change delivered to every agent %.1f ms (single changes), %.2f ms (bursts).\n",
		x.RSSBeforeKiB, x.RSSAfterKiB, x.RSSPerAgentKiB, r.Agents, x.IdleCPUPercent, x.IdleCPUPerAgentPm, x.SingleCPUMsPerChange, x.BurstCPUMsPerChange)
	fmt.Fprintf(&b, "\nAgent sessions reopened during the run: %d.\n", r.Reconnects)
	return b.String()
}

func verdict(r Result) string {
	if r.Single.P99Ms <= 100 {
		return fmt.Sprintf("met (%.1f ms at %d agents)", r.Single.P99Ms, r.Agents)
	}
	return fmt.Sprintf("missed (%.1f ms at %d agents)", r.Single.P99Ms, r.Agents)
}

func joinMs(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(s, " / ")
}
