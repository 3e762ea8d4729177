package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/weirnet/weir/tests/benchreport"
)

// DefaultBaselineRev is the last commit whose API hand-encoded JSON (before
// the Scheme/CodecFactory serializer).
const DefaultBaselineRev = "fd3004c"

// Config is one benchmark run.
type Config struct {
	WeirBin     string // this build
	BaselineBin string // a built baseline; empty: build BaselineRev from Repo
	BaselineRev string
	Repo        string // the git checkout to build the baseline from
	Objects     int    // Pods loaded into each server
	Lists       int    // full lists per client
	Gets        int    // gets per client
	Watchers    int
	Updates     int
	// The write load (writes.go): FanOutWrites writes by each number of
	// FanOutWriters clients, without watchers and with FanOutWatchers (0:
	// skipped), kubelet-shaped over FanOutNodes HTTP/2 connections (0:
	// no kubelet-shaped rows), then one each and all over HTTP/1.1.
	// OnlyWrites runs just that, against this build. ProfileDir, when
	// set, gets a server CPU profile of the first ProfileSeconds of each
	// row with watchers.
	FanOutWatchers, FanOutWrites int
	FanOutNodes                  int
	FanOutShapes                 []string // of WriteShapes; nil: all
	FanOutWriters                []int
	OnlyWrites                   bool
	ProfileDir                   string
	ProfileSeconds               int
	Dir                          string // parent of the temporary data dirs
	Keep                         bool
	Out                          string // markdown file whose api section is replaced ("" = none)
	JSONDir                      string
	Command                      string
	Version                      string
	Log                          io.Writer
}

// Client is one (server, encoding) pair measured.
type Client struct {
	Name      string `json:"name"`
	MediaType string `json:"mediaType"`
	srv       *server
}

// Stats summarises one operation's latencies.
type Stats struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50ms"`
	P99ms float64 `json:"p99ms"`
	Mean  float64 `json:"meanMs"`
	Bytes int     `json:"bytes,omitempty"` // answer size (lists)
}

// Result is what a run measured.
type Result struct {
	Command  string           `json:"command"`
	Weir     string           `json:"weir"`
	Baseline string           `json:"baseline"`
	Objects  int              `json:"objects"`
	Watchers int              `json:"watchers"`
	Clients  []string         `json:"clients"`
	List     map[string]Stats `json:"list"`
	Get      map[string]Stats `json:"get"`
	FanOut   map[string]Stats `json:"watchFanOut"` // write sent -> every watcher decoded it
	PerWatch map[string]Stats `json:"watchDelivery"`
}

const ns = "bench"

const (
	mediaJSON  = "application/json"
	mediaProto = "application/vnd.kubernetes.protobuf"
)

// Run runs the benchmark and publishes its results.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	dir, err := os.MkdirTemp(cfg.Dir, "weir-bench-api-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		fmt.Fprintf(cfg.Log, "api bench: keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if cfg.OnlyWrites {
		cur, err := startServer(ctx, "weir", cfg.WeirBin, filepath.Join(dir, "weir"))
		if err != nil {
			return nil, err
		}
		defer cur.close()
		if _, err := cur.do(ctx, "POST", "/api/v1/namespaces", mediaJSON, mediaJSON,
			[]byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+ns+`"}}`)); err != nil {
			return nil, err
		}
		loads, err := runWrites(ctx, cfg, cur)
		if err != nil {
			return nil, err
		}
		return &Result{Command: cfg.Command, Weir: cfg.Version}, publishWrites(cfg, loads)
	}
	if cfg.BaselineBin == "" {
		if cfg.BaselineBin, err = buildBaseline(ctx, cfg.Log, cfg.Repo, cfg.BaselineRev, dir); err != nil {
			return nil, fmt.Errorf("build the baseline: %w (or pass --baseline-bin)", err)
		}
	}
	base, err := startServer(ctx, "baseline", cfg.BaselineBin, filepath.Join(dir, "baseline"))
	if err != nil {
		return nil, err
	}
	defer base.close()
	cur, err := startServer(ctx, "weir", cfg.WeirBin, filepath.Join(dir, "weir"))
	if err != nil {
		return nil, err
	}
	defer cur.close()
	clients := []Client{
		{Name: "baseline JSON", MediaType: mediaJSON, srv: base},
		{Name: "JSON", MediaType: mediaJSON, srv: cur},
		{Name: "protobuf", MediaType: mediaProto, srv: cur},
	}
	for _, s := range []*server{base, cur} {
		if err := load(ctx, cfg, s); err != nil {
			return nil, err
		}
	}
	res := &Result{Command: cfg.Command, Weir: cfg.Version, Baseline: cfg.BaselineRev, Objects: cfg.Objects, Watchers: cfg.Watchers,
		List: map[string]Stats{}, Get: map[string]Stats{}, FanOut: map[string]Stats{}, PerWatch: map[string]Stats{}}
	for _, c := range clients {
		res.Clients = append(res.Clients, c.Name)
	}
	if err := measureReads(ctx, cfg, clients, res); err != nil {
		return nil, err
	}
	for _, c := range clients {
		fmt.Fprintf(cfg.Log, "api bench: watch fan-out, %s: %d watchers x %d updates\n", c.Name, cfg.Watchers, cfg.Updates)
		fan, per, err := fanOut(ctx, cfg, c)
		if err != nil {
			return nil, fmt.Errorf("watch fan-out (%s): %w", c.Name, err)
		}
		res.FanOut[c.Name], res.PerWatch[c.Name] = fan, per
	}
	if err := publish(cfg, res); err != nil {
		return res, err
	}
	if cfg.FanOutWatchers > 0 {
		loads, err := runWrites(ctx, cfg, cur)
		if err != nil {
			return res, err
		}
		return res, publishWrites(cfg, loads)
	}
	return res, nil
}

// podBody is a realistic Pod (about 1.5 KiB of JSON) that no scheduler
// picks up, so nothing else writes while the benchmark reads.
func podBody(name string) []byte {
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels:      map[string]string{"app": "bench", "tier": "web", "pod-template-hash": "5d8f9c7b6"},
			Annotations: map[string]string{"bench.weir.dev/note": strings.Repeat("x", 200)}},
		Spec: corev1.PodSpec{SchedulerName: "bench-unscheduled", Containers: []corev1.Container{{
			Name: "web", Image: "registry.example/web:1.2.3", Args: []string{"--port=8080", "--log-level=info"},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Env:   []corev1.EnvVar{{Name: "MODE", Value: "bench"}, {Name: "REGION", Value: "local"}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstrPort(8080)}},
				PeriodSeconds: 5},
		}}},
	}
	data, _ := json.Marshal(p)
	return data
}

// load creates cfg.Objects Pods in the bench namespace with 32 writers.
func load(ctx context.Context, cfg Config, s *server) error {
	if _, err := s.do(ctx, "POST", "/api/v1/namespaces", mediaJSON, mediaJSON,
		[]byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+ns+`"}}`)); err != nil {
		return fmt.Errorf("%s: create namespace: %w", s.name, err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	next := make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := s.do(ctx, "POST", "/api/v1/namespaces/"+ns+"/pods", mediaJSON, mediaJSON, podBody(fmt.Sprintf("pod-%05d", i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := 0; i < cfg.Objects; i++ {
		if i%2000 == 0 {
			fmt.Fprintf(cfg.Log, "api bench: %s: loaded %d/%d pods\n", s.name, i, cfg.Objects)
		}
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	if err != nil {
		return fmt.Errorf("%s: load pods: %w", s.name, err)
	}
	fmt.Fprintf(cfg.Log, "api bench: %s: %d pods in %.1f s\n", s.name, cfg.Objects, time.Since(start).Seconds())
	return nil
}

// decoder decodes one answer in a media type into into.
func decode(mediaType string, data []byte, into runtime.Object) error {
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), mediaType)
	if !ok {
		return fmt.Errorf("no decoder for %s", mediaType)
	}
	_, _, err := info.Serializer.Decode(data, nil, into)
	return err
}

// measureReads interleaves the clients' lists and gets round-robin, so
// that drift in the machine's load spreads evenly over them.
func measureReads(ctx context.Context, cfg Config, clients []Client, res *Result) error {
	lists := make([][]time.Duration, len(clients))
	sizes := make([]int, len(clients))
	fmt.Fprintf(cfg.Log, "api bench: %d lists of %d pods per client\n", cfg.Lists, cfg.Objects)
	for i := 0; i < cfg.Lists; i++ {
		for k, c := range clients {
			start := time.Now()
			data, err := c.srv.do(ctx, "GET", "/api/v1/namespaces/"+ns+"/pods", c.MediaType, "", nil)
			if err != nil {
				return err
			}
			var l corev1.PodList
			if err := decode(c.MediaType, data, &l); err != nil {
				return fmt.Errorf("%s: decode list: %w", c.Name, err)
			}
			if len(l.Items) != cfg.Objects {
				return fmt.Errorf("%s: list has %d pods, want %d", c.Name, len(l.Items), cfg.Objects)
			}
			lists[k] = append(lists[k], time.Since(start))
			sizes[k] = len(data)
		}
	}
	gets := make([][]time.Duration, len(clients))
	fmt.Fprintf(cfg.Log, "api bench: %d gets per client\n", cfg.Gets)
	for i := 0; i < cfg.Gets; i++ {
		name := fmt.Sprintf("pod-%05d", (i*7919)%cfg.Objects)
		for k, c := range clients {
			start := time.Now()
			data, err := c.srv.do(ctx, "GET", "/api/v1/namespaces/"+ns+"/pods/"+name, c.MediaType, "", nil)
			if err != nil {
				return err
			}
			var p corev1.Pod
			if err := decode(c.MediaType, data, &p); err != nil || p.Name != name {
				return fmt.Errorf("%s: decode get %s: %v (%q)", c.Name, name, err, p.Name)
			}
			gets[k] = append(gets[k], time.Since(start))
		}
	}
	for k, c := range clients {
		st := summarize(lists[k])
		st.Bytes = sizes[k]
		res.List[c.Name] = st
		res.Get[c.Name] = summarize(gets[k])
	}
	return nil
}

// fanOut opens cfg.Watchers watches of the bench Pods and makes
// cfg.Updates writes one after the other; for each, the time from sending
// the write until every watcher has decoded its event (fan) and until
// each watcher did (per).
func fanOut(ctx context.Context, cfg Config, c Client) (fan, per Stats, err error) {
	data, err := c.srv.do(ctx, "GET", "/api/v1/namespaces/"+ns+"/pods?limit=1", mediaJSON, "", nil)
	if err != nil {
		return fan, per, err
	}
	var l metav1.List
	if err := json.Unmarshal(data, &l); err != nil {
		return fan, per, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type seen struct {
		name string
		at   time.Time
	}
	got := make(chan seen, cfg.Watchers*4)
	var wg sync.WaitGroup
	ready := make(chan error, cfg.Watchers)
	for w := 0; w < cfg.Watchers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready <- watchOne(wctx, c, l.ResourceVersion, func(name string) {
				select {
				case got <- seen{name, time.Now()}:
				case <-wctx.Done():
				}
			})
		}()
	}
	defer wg.Wait()
	defer cancel()
	time.Sleep(500 * time.Millisecond) // let every watch reach the server
	if len(ready) > 0 {
		return fan, per, <-ready
	}
	var fans, pers []time.Duration
	for u := 0; u < cfg.Updates; u++ {
		name := fmt.Sprintf("pod-%05d", (u*104729)%cfg.Objects)
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"bench.weir.dev/update":"%s-%d"}}}`, c.Name, u)
		start := time.Now()
		if _, err := c.srv.do(ctx, "PATCH", "/api/v1/namespaces/"+ns+"/pods/"+name, mediaJSON, "application/merge-patch+json", []byte(patch)); err != nil {
			return fan, per, err
		}
		deadline := time.After(10 * time.Second)
		for n := 0; n < cfg.Watchers; {
			select {
			case s := <-got:
				if s.name != name {
					continue // a straggler of an earlier round cannot happen: rounds wait for all
				}
				pers = append(pers, s.at.Sub(start))
				if n++; n == cfg.Watchers {
					fans = append(fans, s.at.Sub(start))
				}
			case err := <-ready:
				return fan, per, fmt.Errorf("a watch ended: %v", err)
			case <-deadline:
				return fan, per, fmt.Errorf("update %d reached %d of %d watchers within 10 s", u, n, cfg.Watchers)
			}
		}
	}
	return summarize(fans), summarize(pers), nil
}

// watchOne watches the bench Pods from rv, decoding every event in the
// client's media type, and calls saw with each changed Pod's name.
func watchOne(ctx context.Context, c Client, rv string, saw func(string)) error {
	req, err := newRequest(ctx, c.srv, "/api/v1/namespaces/"+ns+"/pods?watch=true&resourceVersion="+rv, c.MediaType)
	if err != nil {
		return err
	}
	resp, err := c.srv.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("watch: %d", resp.StatusCode)
	}
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), c.MediaType)
	if !ok || info.StreamSerializer == nil {
		return fmt.Errorf("no stream decoder for %s", c.MediaType)
	}
	dec := streaming.NewDecoder(info.StreamSerializer.Framer.NewFrameReader(resp.Body), info.StreamSerializer.Serializer)
	for {
		var ev metav1.WatchEvent
		if _, _, err := dec.Decode(nil, &ev); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var p corev1.Pod
		if _, _, err := info.Serializer.Decode(ev.Object.Raw, nil, &p); err != nil {
			return fmt.Errorf("decode %s event: %w", ev.Type, err)
		}
		saw(p.Name)
	}
}

func summarize(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	pct := func(p float64) float64 { return ms(s[int(p*float64(len(s)-1))]) }
	return Stats{N: len(s), P50ms: pct(0.50), P99ms: pct(0.99), Mean: ms(sum / time.Duration(len(s)))}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func publish(cfg Config, res *Result) error {
	md := markdown(res)
	fmt.Fprintln(cfg.Log, md)
	if cfg.Out != "" {
		if err := benchreport.UpdateSection(cfg.Out, "api", md); err != nil {
			return err
		}
	}
	if cfg.JSONDir != "" {
		return benchreport.WriteJSON(cfg.JSONDir, "api", res)
	}
	return nil
}

func markdown(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## API reads: list, get, watch fan-out (`weir-bench api`)\n\n")
	fmt.Fprintf(&b, "`%s` at %s, against the baseline %s (hand-encoded JSON, before the CodecFactory). "+
		"One member each, %d Pods of about 1.5 KiB loaded in both; every client decodes what it receives. "+
		"Lists and gets interleave the clients round-robin. "+
		"This build keeps metadata.managedFields on every object (server-side apply's field ownership, as kube-apiserver does) and the baseline kept none: "+
		"the answer-size row shows what that adds to every list and watch event.\n\n", r.Command, r.Weir, r.Baseline, r.Objects)
	row := func(op string, m map[string]Stats, f func(Stats) float64, unit string) {
		fmt.Fprintf(&b, "| %s |", op)
		baseV := f(m[r.Clients[0]])
		for _, c := range r.Clients {
			fmt.Fprintf(&b, " %.2f %s |", f(m[c]), unit)
		}
		for _, c := range r.Clients[1:] {
			fmt.Fprintf(&b, " %s |", ratio(f(m[c]), baseV))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "| operation |")
	for _, c := range r.Clients {
		fmt.Fprintf(&b, " %s |", c)
	}
	for _, c := range r.Clients[1:] {
		fmt.Fprintf(&b, " %s / baseline |", c)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", 2*len(r.Clients)-1) + "\n")
	p50 := func(s Stats) float64 { return s.P50ms }
	p99 := func(s Stats) float64 { return s.P99ms }
	row(fmt.Sprintf("list %d pods p50", r.Objects), r.List, p50, "ms")
	row(fmt.Sprintf("list %d pods p99", r.Objects), r.List, p99, "ms")
	row("list answer size", r.List, func(s Stats) float64 { return float64(s.Bytes) / (1 << 20) }, "MiB")
	row("get p50", r.Get, p50, "ms")
	row("get p99", r.Get, p99, "ms")
	row(fmt.Sprintf("watch fan-out to %d watchers p50", r.Watchers), r.FanOut, p50, "ms")
	row(fmt.Sprintf("watch fan-out to %d watchers p99", r.Watchers), r.FanOut, p99, "ms")
	row("one watcher's delivery p50", r.PerWatch, p50, "ms")
	row("one watcher's delivery p99", r.PerWatch, p99, "ms")
	b.WriteString("\nFan-out: the time from sending a write (a merge patch of one Pod) until every watcher has decoded its event; writes go one at a time. A ratio below 1.00x is faster than the baseline.\n")
	return b.String()
}

func ratio(v, base float64) string {
	if base == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", v/base)
}

func intstrPort(p int) intstr.IntOrString { return intstr.FromInt32(int32(p)) }
