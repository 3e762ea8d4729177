package runtime

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probeKind is which of a container's three probes a prober runs.
type probeKind int

const (
	startupProbe probeKind = iota
	livenessProbe
	readinessProbe
)

func (k probeKind) String() string {
	return [...]string{"Startup", "Liveness", "Readiness"}[k]
}

// probeParams are a probe's timing and thresholds with Kubernetes'
// defaults filled in: period 10s, timeout 1s, success 1, failure 3.
type probeParams struct {
	delay, period, timeout time.Duration
	success, failure       int
}

func paramsOf(p *corev1.Probe, kind probeKind) probeParams {
	secs := func(v, def int32) time.Duration {
		if v <= 0 {
			v = def
		}
		return time.Duration(v) * time.Second
	}
	n := func(v, def int32) int {
		if v <= 0 {
			return int(def)
		}
		return int(v)
	}
	pp := probeParams{delay: time.Duration(max(p.InitialDelaySeconds, 0)) * time.Second,
		period: secs(p.PeriodSeconds, 10), timeout: secs(p.TimeoutSeconds, 1),
		success: n(p.SuccessThreshold, 1), failure: n(p.FailureThreshold, 3)}
	if kind != readinessProbe {
		pp.success = 1 // the API requires 1 for liveness and startup probes
	}
	return pp
}

// threshold turns single probe results into the prober's result: it
// changes only after `success` consecutive successes or `failure`
// consecutive failures. It is a pure state machine (no clock, no I/O).
type threshold struct {
	success, failure int
	last             bool // the latest single result
	run              int  // how many results in a row equal last
	value            bool // the prober's settled result
}

// newThreshold starts with Kubernetes' initial results: liveness is
// presumed healthy, readiness and startup are not (yet) successful.
func newThreshold(p probeParams, kind probeKind) *threshold {
	return &threshold{success: p.success, failure: p.failure, value: kind == livenessProbe}
}

// observe records one result. settled says a threshold was met by this
// result (the value is then that result, and may equal the previous one).
func (t *threshold) observe(ok bool) (value, settled bool) {
	if t.run > 0 && ok == t.last {
		t.run++
	} else {
		t.last, t.run = ok, 1
	}
	need := t.failure
	if ok {
		need = t.success
	}
	if t.run >= need {
		t.value = ok
		return ok, true
	}
	return t.value, false
}

// resolvePort turns a probe's port (a number, or the name of one of the
// container's ports) into a port number.
func resolvePort(p intstr.IntOrString, c *corev1.Container) (int, error) {
	port := p.IntValue()
	if p.Type == intstr.String {
		port = -1
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				port = int(cp.ContainerPort)
				break
			}
		}
		if port < 0 {
			n, err := strconv.Atoi(p.StrVal)
			if err != nil {
				return 0, fmt.Errorf("probe port %q is not a port of container %s: name one of its ports or give a number", p.StrVal, c.Name)
			}
			port = n
		}
	}
	if port <= 0 || port > 65535 {
		return 0, fmt.Errorf("probe port %s of container %s is out of range 1-65535", p.String(), c.Name)
	}
	return port, nil
}
