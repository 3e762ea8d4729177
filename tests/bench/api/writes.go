package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"

	"github.com/weirnet/weir/tests/benchreport"
)

// WriteLoad is write throughput with and without a large watch fan-out:
// Writers clients update small ConfigMaps as fast as the server answers,
// Writes in all, first with no watcher, then with Watchers watches of
// those ConfigMaps open (each reading its stream to the end), in one of
// the shapes below. The server encodes each event once per format and
// shares the frame among its watchers; this shows what the fan-out still
// costs the writes.
type WriteLoad struct {
	Watchers int `json:"watchers"`
	// Shape is how the watchers watch and connect (shapeKubelets,
	// shapeOneEach, shapeAll; "" without watchers).
	Shape string `json:"shape"`
	// ByName: each watcher watches one of the ConfigMaps (fieldSelector
	// metadata.name, as a kubelet watches its pods' ConfigMaps and
	// Secrets), watcher w the w%64th; otherwise every watcher watches them
	// all.
	ByName bool `json:"byName"`
	// Nodes is how many HTTP/2 connections the kubelet-shaped watchers
	// share (each node's watches are streams of its one connection, as
	// client-go multiplexes a kubelet's watches); 0 for the other shapes.
	Nodes int `json:"nodes,omitempty"`
	// Protocol is what the watches' responses came over (HTTP/1.1,
	// HTTP/2.0), and Connections how many TCP connections the watchers
	// had open when the writes started: both measured at the client.
	Protocol    string `json:"protocol,omitempty"`
	Connections int64  `json:"connections"`
	// MediaType is what the watches accept.
	MediaType string  `json:"mediaType,omitempty"`
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
	// ServerWriteCalls is how many write system calls the server made
	// over the same time, per write: its disk writes, answers and every
	// TLS record of the watch streams (deliveries sharing a record share
	// a call).
	ServerWriteCalls float64 `json:"serverWriteCallsPerWrite"`
	// Load is the machine's 1-minute load average before the writes.
	Load string `json:"loadAverage"`
	// Profile is the server CPU profile taken during the writes
	// (--write-profile), relative to its directory.
	Profile string `json:"profile,omitempty"`
}

// The shapes of the write load's fan-out.
const (
	// shapeKubelets: each watcher watches one ConfigMap by name, and the
	// watchers are spread over Nodes HTTP/2 connections, a node's watches
	// being streams of its one connection (client-go's transport, as a
	// kubelet watches its pods' ConfigMaps and Secrets).
	shapeKubelets = "kubelets"
	// shapeOneEach: each watcher watches one ConfigMap by name, over an
	// HTTP/1.1 connection of its own.
	shapeOneEach = "one-each"
	// shapeAll: each watcher watches every ConfigMap (each receives every
	// write), over an HTTP/1.1 connection of its own.
	shapeAll = "all"
)

// fanOutShape is one watcher configuration of the write load.
type fanOutShape struct {
	shape    string // "" for no watcher
	watchers int
	nodes    int // shapeKubelets: HTTP/2 connections
}

// configMaps is the ConfigMap (index) each watcher of a by-name shape
// watches: for kubelets, each node's are distinct and drawn at random
// (seeded by the node, so every run draws the same), as the ConfigMaps
// of a node's pods are unrelated to the order the writers write in
// (write i changes ConfigMap i%64); for one-each, watcher w's is w%64.
func (f fanOutShape) configMaps() []int {
	out := make([]int, f.watchers)
	if f.shape != shapeKubelets {
		for w := range out {
			out[w] = w % writeCMs
		}
		return out
	}
	per := (f.watchers + f.nodes - 1) / f.nodes
	for n := 0; n*per < f.watchers; n++ {
		perm := rand.New(rand.NewPCG(uint64(n), 0x6b75626c)).Perm(writeCMs)
		for k, w := 0, n*per; w < min((n+1)*per, f.watchers); k, w = k+1, w+1 {
			out[w] = perm[k%writeCMs]
		}
	}
	return out
}

// mediaType is what the watchers accept: protobuf for kubelets (a
// kubelet's client-go speaks it to the API), JSON otherwise.
func (f fanOutShape) mediaType() string {
	if f.shape == shapeKubelets {
		return mediaProto
	}
	return mediaJSON
}

func (f fanOutShape) byName() bool { return f.shape == shapeKubelets || f.shape == shapeOneEach }

const writeCMs = 64 // ConfigMaps the writers cycle through

// openAtOnce is how many watches the write load opens concurrently.
const openAtOnce = 64

// watchFleet is the watchers of one write load: their connections,
// counted as the client dials and closes them, the protocols their
// responses came over, and the events they received.
type watchFleet struct {
	s        *server
	received atomic.Int64
	open     atomic.Int64 // TCP connections open
	failed   chan error
	opened   chan struct{}
	dialing  chan struct{} // at most openAtOnce watches being opened
	mu       sync.Mutex
	protos   map[string]int
	// watchersOf counts the watchers of each ConfigMap (by-name shapes).
	watchersOf []int
	transports []*http.Transport
}

// transport is a client transport whose connections the fleet counts;
// http2 forces HTTP/2 over TLS (one connection carries every request of
// the transport, as client-go's does), otherwise each watch has its own
// HTTP/1.1 connection.
func (f *watchFleet) transport(http2 bool) *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		TLSClientConfig:   f.s.tls.Clone(),
		ForceAttemptHTTP2: http2,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			f.open.Add(1)
			return &countedConn{Conn: c, open: &f.open}, nil
		},
	}
	f.mu.Lock()
	f.transports = append(f.transports, t)
	f.mu.Unlock()
	return t
}

// close closes the connections the fleet's watches left idle (an HTTP/2
// connection outlives its streams), once the watches have ended.
func (f *watchFleet) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.transports {
		t.CloseIdleConnections()
	}
}

// countedConn is a connection the fleet counts while it is open.
type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// protocol names the protocols the watches' responses came over.
func (f *watchFleet) protocol() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ps []string
	for p := range f.protos {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return strings.Join(ps, "+")
}

// start opens the fleet's watches of shape sh from resourceVersion rv,
// each counting its events until ctx ends. wg waits for them.
func (f *watchFleet) start(ctx context.Context, wg *sync.WaitGroup, sh fanOutShape, rv string) error {
	base := "/api/v1/namespaces/" + ns + "/configmaps?watch=true&resourceVersion=" + rv
	if sh.shape == shapeKubelets {
		base += "&allowWatchBookmarks=true" // as client-go's reflectors ask
	}
	cms := sh.configMaps()
	f.watchersOf = make([]int, writeCMs)
	for _, cm := range cms {
		f.watchersOf[cm]++
	}
	path := func(w int) string {
		if !sh.byName() {
			return base
		}
		return base + fmt.Sprintf("&fieldSelector=metadata.name%%3Dw-%02d", cms[w])
	}
	run := func(c *http.Client, w int, after <-chan struct{}, first chan<- struct{}) {
		defer wg.Done()
		if after != nil {
			select {
			case <-after:
			case <-ctx.Done():
				return
			}
		}
		f.dialing <- struct{}{}
		if err := f.count(ctx, c, path(w), sh.mediaType(), first); err != nil && ctx.Err() == nil {
			f.failed <- err
		}
	}
	switch sh.shape {
	case shapeKubelets:
		if !strings.HasPrefix(f.s.base, "https:") {
			return fmt.Errorf("kubelet-shaped watchers need HTTP/2 over TLS; the server is at %s", f.s.base)
		}
		// Node n's watches are watchers n*per .. n*per+per-1 (one
		// ConfigMap each: configMaps), streams of the node's one
		// connection: its first watch dials, the rest follow once it is
		// open.
		per := (sh.watchers + sh.nodes - 1) / sh.nodes
		for n := 0; n*per < sh.watchers; n++ {
			c := &http.Client{Transport: f.transport(true)}
			first := make(chan struct{})
			for w := n * per; w < min((n+1)*per, sh.watchers); w++ {
				wg.Add(1)
				if w == n*per {
					go run(c, w, nil, first)
				} else {
					go run(c, w, first, nil)
				}
			}
		}
	default:
		c := &http.Client{Transport: f.transport(false)}
		for w := 0; w < sh.watchers; w++ {
			wg.Add(1)
			go run(c, w, nil, nil)
		}
	}
	return nil
}

// writeThroughput runs one WriteLoad against s with the watchers of sh.
func writeThroughput(ctx context.Context, cfg Config, s *server, sh fanOutShape) (WriteLoad, error) {
	writers := cfg.FanOutWriters[0]
	watchers := sh.watchers
	res := WriteLoad{Watchers: watchers, Shape: sh.shape, ByName: sh.byName(), Nodes: sh.nodes, Writers: writers, Writes: cfg.FanOutWrites}
	if watchers > 0 {
		res.MediaType = sh.mediaType()
	}
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
	// At most openAtOnce watches are being opened at a time: 2,000 TLS
	// handshakes at once on a busy machine outlast the server's
	// ReadHeaderTimeout.
	fleet := &watchFleet{s: s, failed: make(chan error, watchers), opened: make(chan struct{}, watchers),
		dialing: make(chan struct{}, openAtOnce), protos: map[string]int{}}
	var wg sync.WaitGroup
	defer fleet.close()
	defer wg.Wait()
	defer cancel()
	if err := fleet.start(wctx, &wg, sh, l.ResourceVersion); err != nil {
		return res, err
	}
	for w := 0; w < watchers; w++ {
		select {
		case <-fleet.opened:
		case err := <-fleet.failed:
			return res, fmt.Errorf("open watch %d of %d: %w", w, watchers, err)
		case <-time.After(60 * time.Second):
			return res, fmt.Errorf("only %d of %d watches opened in 60 s", w, watchers)
		}
	}
	if watchers > 0 {
		res.Protocol, res.Connections = fleet.protocol(), fleet.open.Load()
	}
	if watchers > 0 {
		fmt.Fprintf(cfg.Log, "api bench: %d writes by %d writers with %d watchers (%s; %s, %d connections)\n",
			cfg.FanOutWrites, writers, watchers, shapeLabel(res), res.Protocol, res.Connections)
	} else {
		fmt.Fprintf(cfg.Log, "api bench: %d writes by %d writers without watchers\n", cfg.FanOutWrites, writers)
	}
	var prof chan error
	if cfg.ProfileDir != "" && watchers > 0 {
		res.Profile = fmt.Sprintf("writes-%d-%s.pprof", writers, strings.ReplaceAll(sh.shape, " ", "-"))
		prof = make(chan error, 1)
		go func() { prof <- s.cpuProfile(ctx, cfg.ProfileSeconds, filepath.Join(cfg.ProfileDir, res.Profile)) }()
	}
	next := make(chan int)
	lat := make([][]time.Duration, writers)
	errs := make(chan error, writers)
	var ww sync.WaitGroup
	res.Load = loadAverage()
	srv0, err := procCPU(s.pid())
	if err != nil {
		return res, err
	}
	sysw0, err := procWrites(s.pid())
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
		if sh.byName() { // write i reaches the watchers of ConfigMap i%64
			want = 0
			for i := 0; i < cfg.FanOutWrites; i++ {
				want += int64(fleet.watchersOf[i%writeCMs])
			}
		}
		res.Delivered = want
		deadline := time.Now().Add(5 * time.Minute)
		for fleet.received.Load() < want {
			if time.Now().After(deadline) {
				return res, fmt.Errorf("watchers received %d of %d events within 5 min", fleet.received.Load(), want)
			}
			select {
			case err := <-fleet.failed:
				return res, fmt.Errorf("a watch ended: %w", err)
			case <-time.After(5 * time.Millisecond):
			}
		}
		res.DeliveredMs = ms(time.Since(start) - took)
		if got := fleet.received.Load(); got != want {
			return res, fmt.Errorf("watchers received %d events, want %d", got, want)
		}
	}
	srv1, err := procCPU(s.pid())
	if err != nil {
		return res, err
	}
	sysw1, err := procWrites(s.pid())
	if err != nil {
		return res, err
	}
	res.ServerWriteCalls = float64(sysw1-sysw0) / float64(cfg.FanOutWrites)
	cli1, err := selfCPU()
	if err != nil {
		return res, err
	}
	res.ServerCPUms = ms(srv1-srv0) / float64(cfg.FanOutWrites)
	res.ClientCPUms = ms(cli1-cli0) / float64(cfg.FanOutWrites)
	if prof != nil {
		if err := <-prof; err != nil {
			return res, fmt.Errorf("server CPU profile: %w", err)
		}
	}
	return res, nil
}

// count watches path with c in mediaType and counts the events other
// than bookmarks: JSON by its lines, protobuf by its frames, decoding
// only the WatchEvent envelope (its type), never the object: the cost
// measured is the server's. It holds a slot of f.dialing until the watch
// is open (or failed), and closes first then, when given.
func (f *watchFleet) count(ctx context.Context, c *http.Client, path, mediaType string, first chan<- struct{}) error {
	release := sync.OnceFunc(func() {
		<-f.dialing
		if first != nil {
			close(first)
		}
	})
	defer release()
	req, err := newRequest(ctx, f.s, path, mediaType)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("watch: %d", resp.StatusCode)
	}
	f.mu.Lock()
	f.protos[resp.Proto]++
	f.mu.Unlock()
	f.opened <- struct{}{}
	release()
	if mediaType == mediaProto {
		fr := protobuf.LengthDelimitedFramer.NewFrameReader(resp.Body)
		buf := make([]byte, 64<<10)
		for {
			n, err := readFrame(fr, &buf)
			if err != nil {
				return err
			}
			typ, err := protoEventType(buf[:n])
			if err != nil {
				return err
			}
			if typ != "BOOKMARK" {
				f.received.Add(1)
			}
		}
	}
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
			f.received.Add(1)
		}
	}
}

// protoMagic starts a protobuf-encoded object wrapped in a
// runtime.Unknown (apimachinery's runtime/serializer/protobuf).
var protoMagic = []byte("k8s\x00")

// protoEventType is the type of a protobuf watch event frame: a
// metav1.WatchEvent (as the stream serializer frames it; or wrapped in a
// runtime.Unknown after the magic, its raw bytes being field 2), whose
// field 1 is the type. Only those fields are read; the object is not
// decoded.
func protoEventType(frame []byte) (string, error) {
	ev := frame
	if b, ok := bytes.CutPrefix(frame, protoMagic); ok {
		var err error
		if ev, err = protoField(b, 2); err != nil {
			return "", fmt.Errorf("watch frame's Unknown: %w", err)
		}
	}
	typ, err := protoField(ev, 1)
	if err != nil {
		return "", fmt.Errorf("watch frame's WatchEvent: %w", err)
	}
	return string(typ), nil
}

// protoField is the bytes of the length-delimited field num of the
// protobuf message b.
func protoField(b []byte, num protowire.Number) ([]byte, error) {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, protowire.ParseError(l)
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return nil, protowire.ParseError(l)
			}
			return v, nil
		}
		if l = protowire.ConsumeFieldValue(n, typ, b); l < 0 {
			return nil, protowire.ParseError(l)
		}
		b = b[l:]
	}
	return nil, fmt.Errorf("no field %d", num)
}

// readFrame reads one whole frame from a frame reader (which returns
// io.ErrShortBuffer while a frame is larger than the buffer), growing
// *buf as needed.
func readFrame(fr io.Reader, buf *[]byte) (int, error) {
	n := 0
	for {
		m, err := fr.Read((*buf)[n:])
		n += m
		if err == io.ErrShortBuffer {
			*buf = append(*buf, make([]byte, len(*buf))...)
			continue
		}
		return n, err
	}
}

// shapeLabel is how the table names a row's watchers.
func shapeLabel(l WriteLoad) string {
	switch {
	case l.Watchers == 0:
		return "-"
	case l.Shape == shapeKubelets:
		per := (l.Watchers + l.Nodes - 1) / l.Nodes
		return fmt.Sprintf("kubelets (%d nodes x %d)", (l.Watchers+per-1)/per, per)
	case l.Shape != "":
		return l.Shape
	case l.ByName: // results written before shapes were recorded
		return shapeOneEach
	}
	return shapeAll
}

// shapeOf is a row's shape, also for results written before shapes were
// recorded.
func shapeOf(l WriteLoad) string {
	switch {
	case l.Watchers == 0:
		return ""
	case l.Shape != "":
		return l.Shape
	case l.ByName:
		return shapeOneEach
	}
	return shapeAll
}

// goalRatio is the least writes/s with watchers, as a fraction of the
// rate without, that the goal accepts: within 2x.
const goalRatio = 0.5

func writeLoadMarkdown(b *strings.Builder, loads []WriteLoad) {
	if len(loads) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Write throughput under a watch fan-out\n\n")
	fmt.Fprintf(b, "This build only, after unmeasured warm-up writes: writers merge-patch %d small ConfigMaps as fast as they are answered, %d writes in all per row, with no watcher, then with watchers in these shapes:\n\n", writeCMs, loads[0].Writes)
	b.WriteString("- `kubelets`: each watcher watches one of the ConfigMaps by `fieldSelector=metadata.name=`, in protobuf with `allowWatchBookmarks=true`, and the watchers are nodes of several watches each, a node's watches being streams of its one HTTP/2 connection: " +
		"a kubelet's client-go watches its pods' ConfigMaps and Secrets that way. A write reaches 1/" + fmt.Sprint(writeCMs) + " of the watchers. The goal is about this shape.\n" +
		"- `one-each`: watches of one ConfigMap each as well, in JSON, each over an HTTP/1.1 connection of its own.\n" +
		"- `all`: each watcher watches every ConfigMap, in JSON, over an HTTP/1.1 connection of its own, so every watcher receives every write: the server's work grows with writes x watchers (the events-delivered column).\n\n")
	b.WriteString("Every watch is over TLS. The watchers count events without decoding the objects (JSON: by lines; protobuf: by frames, decoding only the event's envelope). The protocol and connection columns are measured by the client (the responses' protocol, the TCP connections open when the writes start). " +
		"Each event is decoded once and encoded once per format, the frame shared by every watcher; what remains per delivery is waking the watch and writing its bytes. " +
		"Over HTTP/1.1 that is a TLS record and a write(2) per delivery (a watch of one ConfigMap gets an event every " + fmt.Sprint(writeCMs) + " writes). " +
		"Over HTTP/2, Go's server hands each stream's data to the connection's one writer goroutine, which writes a TLS record after each frame unless more frames arrive while one is being written: the write(2) column shows how many deliveries share one. " +
		"Client and server share the machine's cores, so the watchers' reading counts against the writes too: " +
		"the CPU columns are the server's and this process's (writers and watchers) CPU time from the first write until every event was delivered, divided by the writes, and the write(2) column the server's write system calls over that time (disk, answers, and one per TLS record of the watch streams), divided by the writes; " +
		"the load average is the machine's 1-minute figure before the writes (other work on the machine slows every row alike, so compare the ratios of one run).\n\n")
	b.WriteString("| writers | watchers | watches | protocol | connections | encoding | writes/s | events delivered/s | write p50 | write p99 | all events delivered after the last write | server CPU per write | client CPU per write | server write(2) calls per write | load average | writes/s vs no watcher |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	base, baseCPU := map[int]float64{}, map[int]float64{}
	for _, l := range loads {
		if l.Watchers == 0 {
			base[l.Writers], baseCPU[l.Writers] = l.PerSecond, l.ServerCPUms+l.ClientCPUms
		}
	}
	for _, l := range loads {
		perSec := l.PerSecond
		if l.Watchers > 0 && l.Seconds > 0 {
			perSec = float64(l.Delivered) / l.Seconds
		}
		proto, conns, enc := "-", "-", "-"
		if l.Watchers > 0 {
			proto, conns, enc = orDefault(l.Protocol, "HTTP/1.1"), fmt.Sprint(l.Connections), "JSON"
			if l.MediaType == mediaProto {
				enc = "protobuf"
			}
		}
		fmt.Fprintf(b, "| %d | %d | %s | %s | %s | %s | %.0f | %.0f | %.2f ms | %.2f ms | %.0f ms | %.2f ms | %.2f ms | %.1f | %s | %s |\n",
			l.Writers, l.Watchers, shapeLabel(l), proto, conns, enc, l.PerSecond, perSec, l.Latency.P50ms, l.Latency.P99ms, l.DeliveredMs, l.ServerCPUms, l.ClientCPUms, l.ServerWriteCalls, l.Load, floorRatio(l.PerSecond, base[l.Writers]))
	}
	b.WriteString(goalVerdict(loads, base, baseCPU))
}

// goalVerdict says, from the rows, which shapes keep writes/s within 2x
// of the no-watcher rate at every writer count, and what a write costs
// in CPU with each.
func goalVerdict(loads []WriteLoad, base, baseCPU map[int]float64) string {
	type shapeResult struct {
		ratios   []string // "0.71x at 16 writers"
		misses   []string // writer counts below goalRatio
		worstCPU float64  // most CPU per write, as a multiple of the no-watcher write's
		watchers int
		conns    string
	}
	var order []string
	res := map[string]*shapeResult{}
	for _, l := range loads {
		sh := shapeOf(l)
		b, ok := base[l.Writers]
		if sh == "" || !ok || b == 0 {
			continue
		}
		r := res[sh]
		if r == nil {
			r = &shapeResult{watchers: l.Watchers, conns: fmt.Sprintf("%s, %d connections", orDefault(l.Protocol, "HTTP/1.1"), l.Connections)}
			res[sh] = r
			order = append(order, sh)
		}
		x := l.PerSecond / b
		r.ratios = append(r.ratios, fmt.Sprintf("%s at %d writers", floorRatio(l.PerSecond, b), l.Writers))
		if x < goalRatio {
			r.misses = append(r.misses, fmt.Sprint(l.Writers))
		}
		if c := baseCPU[l.Writers]; c > 0 && (l.ServerCPUms+l.ClientCPUms)/c > r.worstCPU {
			r.worstCPU = (l.ServerCPUms + l.ClientCPUms) / c
		}
	}
	if len(order) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nThe goal: with %d kubelet-shaped watchers (`kubelets`), writes/s at least %.1fx the no-watcher rate (within 2x of it) at every writer count; the other shapes are held to the same bar for comparison. `all` is informational: every write there is %d deliveries. "+
		"Client and server share this machine's %d cores.\n\n", res[order[0]].watchers, goalRatio, res[order[0]].watchers, runtime.NumCPU())
	for _, sh := range order {
		r := res[sh]
		verdict := "meets the bar at every writer count"
		if len(r.misses) > 0 {
			verdict = "misses it at " + strings.Join(r.misses, " and ") + " writers"
		}
		if sh == shapeAll {
			verdict += " (informational)"
		}
		fmt.Fprintf(&b, "- `%s` (%d watchers, %s): %s; %s. A write costs at most %.1fx the CPU (server and client) of a write without watchers.\n",
			sh, r.watchers, r.conns, strings.Join(r.ratios, ", "), verdict, r.worstCPU)
	}
	if r := res[shapeKubelets]; r != nil {
		if len(r.misses) == 0 {
			b.WriteString("\nThe kubelet-shaped fan-out meets the goal in this run.\n")
		} else {
			b.WriteString("\nThe kubelet-shaped fan-out does not meet the goal in this run.\n")
		}
	} else {
		b.WriteString("\nThis run has no kubelet-shaped row (--write-nodes 0), so it says nothing about the goal.\n")
	}
	b.WriteString("\nCPU time per write is disturbed less than the rates by other work on the machine: a machine that the writes alone keep busy would see the write rate fall about as much as the CPU per write grows; one that they do not (the writes wait on the disk and on raft) less.\n")
	return b.String()
}

// floorRatio is v/base rounded down to two decimals, so that a ratio
// shown as 0.50x is never one below the goal's 0.5.
func floorRatio(v, base float64) string {
	if base == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", math.Floor(v/base*100+1e-9)/100)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WriteShapes are the write load's watcher shapes, in the order they
// run after the no-watcher row; Config.FanOutShapes picks among them.
var WriteShapes = []string{shapeKubelets, shapeOneEach, shapeAll}

// runWrites measures the write load without watchers, then with
// cfg.FanOutWatchers kubelet-shaped (over cfg.FanOutNodes HTTP/2
// connections; skipped when 0), of one ConfigMap each and of all (those
// of cfg.FanOutShapes when set), for each number of writers.
func runWrites(ctx context.Context, cfg Config, s *server) ([]WriteLoad, error) {
	var out []WriteLoad
	shapes := []fanOutShape{{}}
	for _, sh := range WriteShapes {
		if len(cfg.FanOutShapes) > 0 && !slices.Contains(cfg.FanOutShapes, sh) || sh == shapeKubelets && cfg.FanOutNodes == 0 {
			continue
		}
		f := fanOutShape{shape: sh, watchers: cfg.FanOutWatchers}
		if sh == shapeKubelets {
			f.nodes = min(cfg.FanOutNodes, cfg.FanOutWatchers)
		}
		shapes = append(shapes, f)
	}
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
	}
	// An unmeasured warm-up first, so that the first row does not pay
	// for a cold server (heap growth, first encodings, connections).
	warm := cfg
	warm.FanOutWriters, warm.FanOutWrites, warm.ProfileDir = cfg.FanOutWriters[:1], min(cfg.FanOutWrites, 500), ""
	if _, err := writeThroughput(ctx, warm, s, fanOutShape{}); err != nil {
		return nil, fmt.Errorf("warm-up writes: %w", err)
	}
	for _, writers := range cfg.FanOutWriters {
		c := cfg
		c.FanOutWriters = []int{writers}
		for _, sh := range shapes {
			l, err := writeThroughput(ctx, c, s, sh)
			if err != nil {
				return nil, fmt.Errorf("write load with %d writers and %d watchers (%s): %w", writers, sh.watchers, orDefault(sh.shape, "none"), err)
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
