package testclient

// Request is one operation.
type Request struct {
	Op        string `json:"op"`             // tcp, udp, ping, loop-start, loop-stop
	Addr      string `json:"addr,omitempty"` // host:port to reach
	N         int    `json:"n,omitempty"`    // attempts (tcp, udp)
	Hold      bool   `json:"hold,omitempty"` // tcp: keep the connections for ping
	Connected bool   `json:"connected,omitempty"`
	Bind      string `json:"bind,omitempty"`     // tcp: local address:port to bind
	Linger0   bool   `json:"linger0,omitempty"`  // tcp: close with RST (no TIME_WAIT)
	PeriodUs  int    `json:"periodUs,omitempty"` // loop-start: pause between connections
}

// Result answers one Request. Per-attempt slices have one entry per attempt.
type Result struct {
	Backends []string `json:"backends,omitempty"` // greeting received, "" on error
	Peers    []string `json:"peers,omitempty"`    // getpeername (tcp, connected udp) or reply source (udp)
	Errnos   []string `json:"errnos,omitempty"`   // errno name of a failure, "" on success
	DurUs    []int64  `json:"durUs,omitempty"`    // time to connect (tcp) or to the reply (udp)
	OK       int      `json:"ok,omitempty"`       // ping, loop-stop: successes
	Failed   int      `json:"failed,omitempty"`   // ping, loop-stop: failures
	Failures []string `json:"failures,omitempty"` // loop-stop: first failures, described
	Err      string   `json:"err,omitempty"`      // the request itself failed
}
