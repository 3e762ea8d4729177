package dns

import (
	"fmt"
	"strings"

	"github.com/weirnet/weir/tests/benchreport"
)

// Write puts the result into the "dns" section of the markdown file and
// into jsonDir/dns.json.
func Write(res *Result, markdownPath, jsonDir string) error {
	if err := benchreport.UpdateSection(markdownPath, "dns", Markdown(res)); err != nil {
		return fmt.Errorf("write %s: %w", markdownPath, err)
	}
	if err := benchreport.WriteJSON(jsonDir, "dns", res); err != nil {
		return fmt.Errorf("write %s/dns.json: %w", jsonDir, err)
	}
	return nil
}

// Markdown renders the result as the benchmarks.md section.
func Markdown(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Cluster DNS (`weir-bench dns`)\n\n")
	fmt.Fprintf(&b, "Command: `%s` (%s, %s, %d CPUs; dnsperf and the server share the machine; load average %s before, %s after).\n\n",
		r.Command, r.Date, r.GoVersion, r.CPUs, r.LoadBefore, r.LoadAfter)
	fmt.Fprintf(&b, "Loaded: %d services (1 in 10 headless), %d endpoints, %d pods = %d records. "+
		"Index heap: %.1f MiB, **%.0f bytes per record**. Full `Update`: %.0f ms; incremental `Apply` of one EndpointSlice: p50 %.2f ms, p99 %.2f ms.\n\n",
		r.Services, r.Endpoints, r.Pods, r.Records, float64(r.HeapBytes)/(1<<20), r.BytesPerRecord, r.UpdateMs, r.ApplyP50Ms, r.ApplyP99Ms)
	b.WriteString("| scenario | queries/s (best) | rounds | avg latency at saturation | rate for latency | p50 | p99 | lost | rcodes |\n")
	b.WriteString("|---|---:|---|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Scenarios {
		rounds := make([]string, len(s.Rounds))
		for i, q := range s.Rounds {
			rounds[i] = fmt.Sprintf("%.0fk", q/1000)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %.2f ms | %.0f/s | %.3f ms | %.3f ms | %d | %s |\n",
			s.Description, s.Saturated.QPS, strings.Join(rounds, " "), s.Saturated.AvgLatency, s.Saturated.QPS/2,
			s.HalfRate.P50, s.HalfRate.P99, s.Saturated.Lost+s.HalfRate.Lost, s.Saturated.Rcodes)
	}
	b.WriteString("\nSaturated: dnsperf with no rate limit (`-c` sockets, `-q` outstanding as in the JSON), the best of the rounds, " +
		"which visit every scenario in turn (all rounds are in the JSON). " +
		"p50/p99: a second run at half the saturated rate with per-query latencies (`dnsperf -v`). " +
		"The I/O ceiling row is a Go UDP echo with the server's socket code and no DNS work. " +
		"Lost: dnsperf counts a few queries per run as lost (the echo responder too), so they are not the server's. Raw figures: `docs/bench/dns.json`.\n")
	return b.String()
}
