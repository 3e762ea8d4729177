package testclient

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// Main serves requests from stdin until it closes. It returns the exit code.
func Main() int {
	c := &client{}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req Request
		var res Result
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			res.Err = fmt.Sprintf("bad request: %v", err)
		} else {
			res = c.do(req)
		}
		if err := out.Encode(res); err != nil {
			return 1
		}
	}
	c.stopLoop()
	c.closeHeld()
	return 0
}

func (c *client) do(req Request) Result {
	switch req.Op {
	case "tcp":
		return c.tcp(req)
	case "udp":
		return c.udp(req)
	case "ping":
		return c.ping()
	case "loop-start":
		return c.startLoop(req)
	case "loop-stop":
		return c.stopLoop()
	}
	return Result{Err: fmt.Sprintf("unknown op %q", req.Op)}
}
