package dns

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// perfRun is what one dnsperf run reports.
type perfRun struct {
	Args       []string `json:"args"`
	QPS        float64  `json:"qps"`
	Sent       int      `json:"sent"`
	Lost       int      `json:"lost"`
	AvgLatency float64  `json:"avg_latency_ms"`
	Rcodes     string   `json:"rcodes"`
	P50        float64  `json:"p50_ms,omitempty"`
	P99        float64  `json:"p99_ms,omitempty"`
	latencies  []float32
}

// perfConfig says how dnsperf drives the target.
type perfConfig struct {
	bin         string
	clients     int // sockets
	outstanding int
	duration    time.Duration
}

// run runs dnsperf against addr with the queries in file. rate 0 means as
// fast as the target answers; verbose records every query's latency.
func (p perfConfig) run(ctx context.Context, addr, file string, rate int, verbose bool) (perfRun, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return perfRun{}, err
	}
	args := []string{"-s", host, "-p", port, "-d", file, "-l", strconv.Itoa(int(p.duration.Seconds())),
		"-c", strconv.Itoa(p.clients), "-q", strconv.Itoa(p.outstanding), "-t", "2"}
	if rate > 0 {
		args = append(args, "-Q", strconv.Itoa(rate))
	}
	if verbose {
		args = append(args, "-v")
	}
	ctx, cancel := context.WithTimeout(ctx, p.duration+time.Minute)
	defer cancel()
	// Output goes to a file and is parsed afterwards, so reading dnsperf -v
	// does not compete for CPU with the server being measured.
	out, err := os.CreateTemp("", "dnsperf-*.out")
	if err != nil {
		return perfRun{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		return perfRun{}, fmt.Errorf("dnsperf %s: %w: %s (install dnsperf with apt-get or make deps)", strings.Join(args, " "), err, stderr.String())
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return perfRun{}, err
	}
	r := perfRun{Args: append([]string{"dnsperf"}, args...)}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		r.parseLine(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("read dnsperf output: %w", err)
	}
	if r.QPS == 0 {
		return r, fmt.Errorf("dnsperf %s reported no queries per second: %s", strings.Join(args, " "), stderr.String())
	}
	r.percentiles()
	return r, nil
}

func (r *perfRun) parseLine(line string) {
	if rest, ok := strings.CutPrefix(line, "> "); ok {
		f := strings.Fields(rest)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil && len(f) >= 4 {
			r.latencies = append(r.latencies, float32(v))
		}
		return
	}
	key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok {
		return
	}
	val = strings.TrimSpace(val)
	first := strings.Fields(val + " ")
	switch key {
	case "Queries sent":
		r.Sent, _ = strconv.Atoi(first[0])
	case "Queries lost":
		r.Lost, _ = strconv.Atoi(first[0])
	case "Queries per second":
		r.QPS, _ = strconv.ParseFloat(first[0], 64)
	case "Average Latency (s)":
		v, _ := strconv.ParseFloat(first[0], 64)
		r.AvgLatency = v * 1000
	case "Response codes":
		r.Rcodes = val
	}
}

func (r *perfRun) percentiles() {
	if len(r.latencies) == 0 {
		return
	}
	slices.Sort(r.latencies)
	at := func(q float64) float64 {
		return float64(r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))]) * 1000
	}
	r.P50, r.P99 = at(0.50), at(0.99)
	r.latencies = nil
}
