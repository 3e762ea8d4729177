package testclient

import (
	"fmt"
	"sync"
	"time"
)

// loop makes connections one after another until stopped.
type loop struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	ok       int
	failed   int
	failures []string
}

func (c *client) startLoop(req Request) Result {
	if c.loop != nil {
		return Result{Err: "loop already running"}
	}
	l := &loop{stop: make(chan struct{})}
	c.loop = l
	period := time.Duration(req.PeriodUs) * time.Microsecond
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		one := Request{Addr: req.Addr, Linger0: true}
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			backend, _, errno, _ := c.tcpOnce(one)
			if errno == "" && backend != "" {
				l.ok++
			} else {
				l.failed++
				if len(l.failures) < 10 {
					l.failures = append(l.failures, fmt.Sprintf("%s: %s", time.Now().Format("15:04:05.000"), errno))
				}
			}
			time.Sleep(period)
		}
	}()
	return Result{}
}

func (c *client) stopLoop() Result {
	l := c.loop
	if l == nil {
		return Result{}
	}
	close(l.stop)
	l.wg.Wait()
	c.loop = nil
	return Result{OK: l.ok, Failed: l.failed, Failures: l.failures}
}
