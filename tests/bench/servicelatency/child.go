package servicelatency

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"
)

// ChildEnv, set to "client", makes a re-executed binary run ChildMain: the
// benchmark's client, started inside a client pod namespace and a cgroup.
const ChildEnv = "WEIR_SERVICE_LATENCY_CHILD"

// request is one batch of operations for the client child.
type request struct {
	Op    string   `json:"op"`    // crr, rr, udp
	Addrs []string `json:"addrs"` // one picked at random per operation (per connection for rr)
	N     int      `json:"n"`
}

// reply carries the batch's latencies in nanoseconds and which backends
// answered.
type reply struct {
	Ns       []int64        `json:"ns"`
	Backends map[string]int `json:"backends"`
	Errors   int            `json:"errors"`
	FirstErr string         `json:"firstErr,omitempty"`
}

const childTimeout = 2 * time.Second

// ChildMain serves requests (JSON lines on stdin) until stdin closes and
// returns the exit code.
func ChildMain() int {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		var rep reply
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			rep.FirstErr = fmt.Sprintf("bad request: %v", err)
			rep.Errors = 1
		} else {
			rep = runBatch(req)
		}
		if err := out.Encode(rep); err != nil {
			return 1
		}
	}
	return 0
}

func runBatch(req request) reply {
	rep := reply{Backends: map[string]int{}, Ns: make([]int64, 0, req.N)}
	fail := func(err error) {
		rep.Errors++
		if rep.FirstErr == "" {
			rep.FirstErr = err.Error()
		}
	}
	if len(req.Addrs) == 0 {
		fail(fmt.Errorf("no addresses"))
		return rep
	}
	pick := func() string { return req.Addrs[rand.IntN(len(req.Addrs))] }
	switch req.Op {
	case "crr":
		for i := 0; i < req.N; i++ {
			d, who, err := crrOnce(pick())
			rep.record(d, who, err, fail)
		}
	case "rr":
		rrBatch(pick(), req.N, &rep, fail)
	case "udp":
		for i := 0; i < req.N; i++ {
			d, who, err := udpOnce(pick())
			rep.record(d, who, err, fail)
		}
	default:
		fail(fmt.Errorf("unknown op %q", req.Op))
	}
	return rep
}

func (r *reply) record(d time.Duration, who string, err error, fail func(error)) {
	if err != nil {
		fail(err)
		return
	}
	r.Ns = append(r.Ns, d.Nanoseconds())
	r.Backends[who]++
}

// crrOnce: connect, one request, its response, close.
func crrOnce(addr string) (time.Duration, string, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp4", addr, childTimeout)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(childTimeout))
	rd := bufio.NewReaderSize(c, 64)
	who, err := exchange(c, rd)
	if err != nil {
		return 0, "", err
	}
	c.Close()
	return time.Since(start), who, nil
}

// rrBatch: n request/responses on one open connection.
func rrBatch(addr string, n int, rep *reply, fail func(error)) {
	c, err := net.DialTimeout("tcp4", addr, childTimeout)
	if err != nil {
		fail(err)
		return
	}
	defer c.Close()
	rd := bufio.NewReaderSize(c, 64)
	for i := 0; i < n; i++ {
		start := time.Now()
		_ = c.SetDeadline(start.Add(childTimeout))
		who, err := exchange(c, rd)
		rep.record(time.Since(start), who, err, fail)
		if err != nil {
			return
		}
	}
}

var request1 = []byte("q\n")

func exchange(c net.Conn, rd *bufio.Reader) (string, error) {
	if _, err := c.Write(request1); err != nil {
		return "", err
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// udpOnce: a fresh unconnected socket, one datagram to addr, its reply
// (as a DNS client does per query).
func udpOnce(addr string) (time.Duration, string, error) {
	ra, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return 0, "", err
	}
	start := time.Now()
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	_ = c.SetDeadline(start.Add(childTimeout))
	if _, err := c.WriteToUDP(request1, ra); err != nil {
		return 0, "", err
	}
	buf := make([]byte, 256)
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		return 0, "", err
	}
	if from.String() != addr {
		return 0, "", fmt.Errorf("reply from %s, sent to %s", from, addr)
	}
	return time.Since(start), strings.TrimSpace(string(buf[:n])), nil
}
