package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/tests/benchreport"
)

// WriteLoad is write throughput with and without a large watch fan-out:
// Writers clients update small ConfigMaps as fast as the server answers,
// Writes in all, first with no watcher, then with Watchers watches of
// those ConfigMaps open (each reading its stream to the end). The server
// encodes each event once per format and shares the frame among its
// watchers; this shows what the fan-out still costs the writes.
type WriteLoad struct {
	Watchers int `json:"watchers"`
	// ByName: each watcher watches one of the ConfigMaps (fieldSelector
	// metadata.name, as a kubelet watches its pods' ConfigMaps and
	// Secrets), watcher w the w%64th; otherwise every watcher watches them
	// all.
	ByName    bool    `json:"byName"`
	Writers   int     `json:"writers"`
	Writes    int     `json:"writes"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"writesPerSecond"`
	Latency   Stats   `json:"latency"`
	// Delivered is how many events the watchers received in all.
	Delivered int64 `json:"delivered"`
	// DeliveredMs is how long after the last write's answer every watcher
	// had received every event (0 without watchers).
	DeliveredMs float64 `json:"deliveredMs"`
	// ServerCPUms and ClientCPUms are the CPU time the server and this
	// process (the writers and the watchers) used from the first write
	// until every event was delivered, per write.
	ServerCPUms float64 `json:"serverCpuMsPerWrite"`
	ClientCPUms float64 `json:"clientCpuMsPerWrite"`
	// Load is the machine's 1-minute load average before the writes.
	Load string `json:"loadAverage"`
}

const writeCMs = 64 // ConfigMaps the writers cycle through

// openAtOnce is how many watches the write load opens concurrently.
const openAtOnce = 64

// writeThroughput runs one WriteLoad against s with watchers watches.
func writeThroughput(ctx context.Context, cfg Config, s *server, watchers int, byName bool) (WriteLoad, error) {
	writers := cfg.FanOutWriters[0]
	res := WriteLoad{Watchers: watchers, ByName: byName, Writers: writers, Writes: cfg.FanOutWrites}
	base := "/api/v1/namespaces/" + ns + "/configmaps"
	for i := 0; i < writeCMs; i++ {
		body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w-%02d"},"data":{"n":"0"}}`, i)
		if _, err := s.do(ctx, "POST", base, mediaJSON, mediaJSON, []byte(body)); err != nil && !strings.Contains(err.Error(), "409") {
			return res, err
		}
	}
	data, err := s.do(ctx, "GET", base+"?limit=1", mediaJSON, "", nil)
	if err != nil {
		return res, err
	}
	var l metav1.List
	if err := json.Unmarshal(data, &l); err != nil {
		return res, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var received atomic.Int64
	var wg sync.WaitGroup
	failed := make(chan error, watchers)
	opened := make(chan struct{}, watchers)
	// At most openAtOnce watches are being opened at a time: 2,000 TLS
	// handshakes at once on a busy machine outlast the server's
	// ReadHeaderTimeout.
	dialing := make(chan struct{}, openAtOnce)
	for w := 0; w < watchers; w++ {
		path := base + "?watch=true&resourceVersion=" + l.ResourceVersion
		if byName {
			path += fmt.Sprintf("&fieldSelector=metadata.name%%3Dw-%02d", w%writeCMs)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			dialing <- struct{}{}
			if err := countEvents(wctx, s, path, opened, dialing, &received); err != nil && wctx.Err() == nil {
				failed <- err
			}
		}()
	}
	defer wg.Wait()
	defer cancel()
	for w := 0; w < watchers; w++ {
		select {
		case <-opened:
		case err := <-failed:
			return res, fmt.Errorf("open watch %d of %d: %w", w, watchers, err)
		case <-time.After(60 * time.Second):
			return res, fmt.Errorf("only %d of %d watches opened in 60 s", w, watchers)
		}
	}
	fmt.Fprintf(cfg.Log, "api bench: %d writes by %d writers with %d watchers%s\n", cfg.FanOutWrites, writers, watchers, map[bool]string{true: " of one ConfigMap each"}[byName])
	next := make(chan int)
	lat := make([][]time.Duration, writers)
	errs := make(chan error, writers)
	var ww sync.WaitGroup
	res.Load = loadAverage()
	srv0, err := procCPU(s.pid())
	if err != nil {
		return res, err
	}
	cli0, err := selfCPU()
	if err != nil {
		return res, err
	}
	start := time.Now()
	for k := 0; k < writers; k++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for i := range next {
				patch := fmt.Sprintf(`{"data":{"n":"%d"}}`, i)
				t0 := time.Now()
				if _, err := s.do(ctx, "PATCH", fmt.Sprintf("%s/w-%02d", base, i%writeCMs), mediaJSON, "application/merge-patch+json", []byte(patch)); err != nil {
					errs <- err
					return
				}
				lat[k] = append(lat[k], time.Since(t0))
			}
		}()
	}
feed:
	for i := 0; i < cfg.FanOutWrites; i++ {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	ww.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	if err != nil {
		return res, err
	}
	took := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	res.Seconds, res.PerSecond, res.Latency = took.Seconds(), float64(cfg.FanOutWrites)/took.Seconds(), summarize(all)
	fmt.Fprintf(cfg.Log, "api bench: %.0f writes/s with %d watchers; waiting for delivery\n", res.PerSecond, watchers)
	if watchers > 0 {
		want := int64(watchers) * int64(cfg.FanOutWrites)
		if byName { // write i reaches the watchers of ConfigMap i%64
			want = 0
			for i := 0; i < cfg.FanOutWrites; i++ {
				want += int64(watchers / writeCMs)
				if i%writeCMs < watchers%writeCMs {
					want++
				}
			}
		}
		res.Delivered = want
		deadline := time.Now().Add(5 * time.Minute)
		for received.Load() < want {
			if time.Now().After(deadline) {
				return res, fmt.Errorf("watchers received %d of %d events within 5 min", received.Load(), want)
			}
			select {
			case err := <-failed:
				return res, fmt.Errorf("a watch ended: %w", err)
			case <-time.After(5 * time.Millisecond):
			}
		}
		res.DeliveredMs = ms(time.Since(start) - took)
	}
	srv1, err := procCPU(s.pid())
	if err != nil {
		return res, err
	}
	cli1, err := selfCPU()
	if err != nil {
		return res, err
	}
	res.ServerCPUms = ms(srv1-srv0) / float64(cfg.FanOutWrites)
	res.ClientCPUms = ms(cli1-cli0) / float64(cfg.FanOutWrites)
	return res, nil
}

// countEvents watches path (JSON, one event a line) and counts the
// events other than bookmarks, without decoding the objects: the cost
// measured is the server's.
func countEvents(ctx context.Context, s *server, path string, opened chan<- struct{}, dialing <-chan struct{}, n *atomic.Int64) error {
	release := sync.OnceFunc(func() { <-dialing }) // once open, or failed
	defer release()
	req, err := newRequest(ctx, s, path, mediaJSON)
	if err != nil {
		return err
	}
	// The server client's timeout would cut a long watch.
	resp, err := (&http.Client{Transport: s.hc.Transport}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("watch: %d", resp.StatusCode)
	}
	opened <- struct{}{}
	release()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(line, []byte(`{"type":"BOOKMARK"`)) {
			n.Add(1)
		}
	}
}

func writeLoadMarkdown(b *strings.Builder, loads []WriteLoad) {
	if len(loads) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Write throughput under a watch fan-out\n\n")
	fmt.Fprintf(b, "This build only: writers merge-patch %d small ConfigMaps as fast as they are answered, %d writes in all, with no watcher, then with watchers that each watch all of those ConfigMaps (`all`: every watcher receives every write), "+
		"then with watchers that each watch one of them by `fieldSelector=metadata.name=` (`one each`, as kubelets watch their pods' ConfigMaps and Secrets: a write reaches 1/%d of the watchers). "+
		"JSON; the watchers count event lines without decoding them. "+
		"Each event is decoded once and encoded once per format, the frame shared by every watcher; what remains per watcher is waking it and writing the bytes. "+
		"Each watcher has its own TLS connection (HTTP/1.1): in `one each` a watcher's events come 64 writes apart, so every delivery is a TLS record and a write(2) of its own, most of the server's cost per delivery in profiles; "+
		"in `all` a watcher that wakes takes every event queued for it and writes them with one flush. "+
		"Client and server share the machine's cores, so the watchers' reading counts against the writes too: "+
		"the CPU columns are the server's and this process's (writers and watchers) CPU time from the first write until every event was delivered, divided by the writes; "+
		"the load average is the machine's 1-minute figure before the writes (other work on the machine slows every row alike, so compare the ratios of one run).\n\n", writeCMs, loads[0].Writes, writeCMs)
	b.WriteString("| writers | watchers | each watches | writes/s | events delivered/s | write p50 | write p99 | all events delivered after the last write | server CPU per write | client CPU per write | load average | writes/s vs no watcher |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var base, baseCPU float64
	worst := map[bool]float64{}
	costCPU := map[bool]float64{} // most CPU per write, as a multiple of the no-watcher write's
	watchers := 0
	for _, l := range loads {
		scope := "-"
		cpu := l.ServerCPUms + l.ClientCPUms
		if l.Watchers == 0 {
			base, baseCPU = l.PerSecond, cpu
		} else {
			if baseCPU > 0 && cpu/baseCPU > costCPU[l.ByName] {
				costCPU[l.ByName] = cpu / baseCPU
			}
			scope = "all"
			if l.ByName {
				scope = "one each"
			}
			watchers = l.Watchers
			if r := l.PerSecond / base; base > 0 && (worst[l.ByName] == 0 || r < worst[l.ByName]) {
				worst[l.ByName] = r
			}
		}
		perSec := l.PerSecond
		if l.Watchers > 0 && l.Seconds > 0 {
			perSec = float64(l.Delivered) / l.Seconds
		}
		fmt.Fprintf(b, "| %d | %d | %s | %.0f | %.0f | %.2f ms | %.2f ms | %.0f ms | %.2f ms | %.2f ms | %s | %s |\n", l.Writers, l.Watchers, scope, l.PerSecond, perSec, l.Latency.P50ms, l.Latency.P99ms, l.DeliveredMs, l.ServerCPUms, l.ClientCPUms, l.Load, ratio(l.PerSecond, base))
	}
	if watchers == 0 {
		return
	}
	verdict := func(r float64) string {
		if r < 0.5 {
			return "not within"
		}
		return "within"
	}
	fmt.Fprintf(b, "\nWith %d watchers, the write rate is at worst %.2fx the no-watcher rate when each watches one ConfigMap (%s 2x of it), and %.2fx when each watches all of them (%s 2x): "+
		"there every watcher receives every write, so the server's work grows with writes x watchers (the events-delivered column). Client and server share this machine's %d cores.\n",
		watchers, worst[true], verdict(worst[true]), worst[false], verdict(worst[false]), runtime.NumCPU())
	fmt.Fprintf(b, "\nCPU time per write (server and client), which other work on the machine disturbs less than the rates: with %d watchers a write costs at most %.1fx the CPU of a write without watchers when each watches one ConfigMap, and %.1fx when each watches all of them. "+
		"A machine that the writes alone keep busy would see the write rate fall about as much; one that they do not (the writes wait on the disk and on raft) less.\n",
		watchers, costCPU[true], costCPU[false])
}

// runWrites measures the write load without watchers, then with
// cfg.FanOutWatchers of one ConfigMap each, then of all, for each number
// of writers.
func runWrites(ctx context.Context, cfg Config, s *server) ([]WriteLoad, error) {
	var out []WriteLoad
	for _, writers := range cfg.FanOutWriters {
		c := cfg
		c.FanOutWriters = []int{writers}
		for _, run := range []struct {
			watchers int
			byName   bool
		}{{0, false}, {cfg.FanOutWatchers, true}, {cfg.FanOutWatchers, false}} {
			l, err := writeThroughput(ctx, c, s, run.watchers, run.byName)
			if err != nil {
				return nil, fmt.Errorf("write load with %d writers and %d watchers: %w", writers, run.watchers, err)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// publishWrites writes the write-load section ("api-writes") and its
// JSON.
func publishWrites(cfg Config, loads []WriteLoad) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## API writes under a watch fan-out (`%s`)\n", cfg.Command)
	writeLoadMarkdown(&b, loads)
	md := strings.Replace(b.String(), "\n### Write throughput under a watch fan-out\n\n", fmt.Sprintf("\nAt %s. ", cfg.Version), 1)
	fmt.Fprintln(cfg.Log, md)
	if cfg.Out != "" {
		if err := benchreport.UpdateSection(cfg.Out, "api-writes", md); err != nil {
			return err
		}
	}
	if cfg.JSONDir != "" {
		return benchreport.WriteJSON(cfg.JSONDir, "api-writes", map[string]any{"command": cfg.Command, "weir": cfg.Version, "loads": loads})
	}
	return nil
}
