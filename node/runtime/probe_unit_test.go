package runtime

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestParamsDefaults(t *testing.T) {
	got := paramsOf(&corev1.Probe{}, readinessProbe)
	want := probeParams{period: 10 * time.Second, timeout: time.Second, success: 1, failure: 3}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	p := &corev1.Probe{InitialDelaySeconds: 2, PeriodSeconds: 1, TimeoutSeconds: 3, SuccessThreshold: 4, FailureThreshold: 5}
	if got := paramsOf(p, readinessProbe); got != (probeParams{2 * time.Second, time.Second, 3 * time.Second, 4, 5}) {
		t.Errorf("readiness = %+v", got)
	}
	if got := paramsOf(p, livenessProbe); got.success != 1 {
		t.Errorf("liveness success threshold = %d, want 1", got.success)
	}
}

// TestThreshold runs result sequences through the state machine: the
// result changes only after enough consecutive equal results.
func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		kind             probeKind
		success, failure int
		results          string // s = success, f = failure
		values           string // value after each result (1/0)
		settled          string // settled after each result (y/n)
	}{
		{readinessProbe, 1, 3, "sffsfff", "1111110", "ynnynny"},
		{readinessProbe, 3, 1, "ssfsss", "000001", "nnynny"},
		{livenessProbe, 1, 3, "fffs", "1101", "nnyy"},
		{livenessProbe, 1, 2, "fsfsff", "111110", "nynyny"},
		{startupProbe, 1, 3, "ff", "00", "nn"},
		{startupProbe, 1, 3, "fffs", "0001", "nnyy"},
	} {
		th := newThreshold(probeParams{success: tc.success, failure: tc.failure}, tc.kind)
		var values, settled strings.Builder
		for _, r := range tc.results {
			v, s := th.observe(r == 's')
			values.WriteString(map[bool]string{true: "1", false: "0"}[v])
			settled.WriteString(map[bool]string{true: "y", false: "n"}[s])
		}
		if values.String() != tc.values || settled.String() != tc.settled {
			t.Errorf("%v s=%d f=%d %s: values %s settled %s, want %s %s", tc.kind, tc.success, tc.failure,
				tc.results, values.String(), settled.String(), tc.values, tc.settled)
		}
	}
}

func TestResolvePort(t *testing.T) {
	c := &corev1.Container{Name: "web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}}}
	for _, tc := range []struct {
		port intstr.IntOrString
		want int
		err  string
	}{
		{intstr.FromInt32(80), 80, ""},
		{intstr.FromString("http"), 8080, ""},
		{intstr.FromString("metrics"), 9090, ""},
		{intstr.FromString("8081"), 8081, ""},
		{intstr.FromString("grpc"), 0, `"grpc" is not a port of container web`},
		{intstr.FromInt32(0), 0, "out of range"},
		{intstr.FromInt32(70000), 0, "out of range"},
		{intstr.FromString("-1"), 0, "out of range"},
	} {
		got, err := resolvePort(tc.port, c)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("resolvePort(%s) = %d, %v; want %d, %q", tc.port.String(), got, err, tc.want, tc.err)
		}
	}
}

// TestReadiness: started and ready from the running state and the probes
// the container has.
func TestReadiness(t *testing.T) {
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	waiting := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}
	probe := &corev1.Probe{}
	for i, tc := range []struct {
		state                 corev1.ContainerState
		startup, readiness    bool // has the probe
		startupOK, readyProbe bool // its results
		started, ready        bool
	}{
		{running, false, false, false, false, true, true},
		{waiting, false, false, true, true, false, false},
		{running, true, false, false, false, false, false},
		{running, true, false, true, false, true, true},
		{running, false, true, false, false, true, false},
		{running, false, true, false, true, true, true},
		{running, true, true, false, true, false, false},
		{running, true, true, true, true, true, true},
	} {
		spec := &corev1.Container{}
		if tc.startup {
			spec.StartupProbe = probe
		}
		if tc.readiness {
			spec.ReadinessProbe = probe
		}
		c := &ctrState{state: tc.state, startupOK: tc.startupOK, ready: tc.readyProbe}
		if started, ready := c.readiness(spec); started != tc.started || ready != tc.ready {
			t.Errorf("case %d: started %v ready %v, want %v %v", i, started, ready, tc.started, tc.ready)
		}
	}
}

func TestConditions(t *testing.T) {
	cs := conditions(true, nil, true, []string{"a", "b"})
	if cs[3].Type != corev1.PodReady || cs[3].Status != corev1.ConditionFalse || cs[3].Message != "containers with unready status: [a b]" {
		t.Errorf("Ready = %+v", cs[3])
	}
	if cs := conditions(true, nil, true, nil); cs[2].Status != corev1.ConditionTrue || cs[3].Status != corev1.ConditionTrue {
		t.Errorf("all ready: %+v", cs)
	}
	if cs := conditions(true, nil, false, nil); cs[3].Status != corev1.ConditionFalse {
		t.Errorf("no containers: %+v", cs)
	}
}

func TestRestartsAfterProbeKill(t *testing.T) {
	for _, tc := range []struct {
		policy corev1.RestartPolicy
		code   int32
		killed bool
		want   bool
	}{
		{corev1.RestartPolicyAlways, 0, false, true},
		{corev1.RestartPolicyOnFailure, 0, false, false},
		{corev1.RestartPolicyOnFailure, 0, true, true},
		{corev1.RestartPolicyOnFailure, 1, false, true},
		{corev1.RestartPolicyNever, 137, true, false},
	} {
		if got := restarts(tc.policy, tc.code, tc.killed); got != tc.want {
			t.Errorf("restarts(%s, %d, %v) = %v", tc.policy, tc.code, tc.killed, got)
		}
	}
}

func TestProbeGrace(t *testing.T) {
	ten, hour, five := int64(10), int64(3600), int64(5)
	pod := &corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &ten}}
	if g := probeGrace(pod, &corev1.Probe{}); g != 10*time.Second {
		t.Errorf("pod grace: %v", g)
	}
	if g := probeGrace(pod, &corev1.Probe{TerminationGracePeriodSeconds: &five}); g != 5*time.Second {
		t.Errorf("probe grace: %v", g)
	}
	if g := probeGrace(&corev1.Pod{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &hour}}, &corev1.Probe{}); g != maxProbeKillGrace {
		t.Errorf("capped grace: %v", g)
	}
	if g := probeGrace(&corev1.Pod{}, &corev1.Probe{}); g != 30*time.Second {
		t.Errorf("default grace: %v", g)
	}
}

// TestCheckHTTPAndTCP runs httpGet and tcpSocket checks against real
// servers on loopback (the agent's own network namespace).
func TestCheckHTTPAndTCP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("X-Probe") != "yes" || r.Host != "probe.example" || !strings.HasPrefix(r.UserAgent(), "kube-probe/"):
			http.Error(w, "bad headers", http.StatusBadRequest)
		case r.URL.Path == "/healthz":
			w.Write([]byte("ok"))
		case r.URL.Path == "/moved":
			http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
		case r.URL.Path == "/here":
			http.Redirect(w, r, "/healthz", http.StatusFound)
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/broken", http.StatusMovedPermanently)
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tls.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	_, tlsPort, _ := net.SplitHostPort(tls.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	c := &checker{ctr: &corev1.Container{Name: "web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(n)}}}, podIP: "127.0.0.1"}
	closed := closedPort(t)
	headers := []corev1.HTTPHeader{{Name: "X-Probe", Value: "yes"}, {Name: "Host", Value: "probe.example"}}
	get := func(path string, port intstr.IntOrString, scheme corev1.URIScheme) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port, Scheme: scheme, HTTPHeaders: headers}}}
	}
	tcp := func(port intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}}
	}
	for _, tc := range []struct {
		name  string
		probe *corev1.Probe
		ok    bool
		msg   string
	}{
		{"named port 200", get("/healthz", intstr.FromString("http"), ""), true, ""},
		{"path without slash", get("healthz", intstr.FromString(port), ""), true, ""},
		{"redirect elsewhere is success", get("/moved", intstr.FromString("http"), ""), true, ""},
		{"redirect on the host is followed", get("/here", intstr.FromString("http"), ""), true, ""},
		{"redirect to a failure", get("/loop", intstr.FromString("http"), ""), false, "statuscode: 500"},
		{"500", get("/other", intstr.FromString("http"), ""), false, "statuscode: 500: broken"},
		{"https unverified", get("/", intstr.FromString(tlsPort), corev1.URISchemeHTTPS), true, ""},
		{"refused", get("/", intstr.FromInt32(int32(closed)), ""), false, "connection refused"},
		{"tcp open", tcp(intstr.FromString("http")), true, ""},
		{"tcp refused", tcp(intstr.FromInt32(int32(closed))), false, "connection refused"},
	} {
		ok, msg, err := c.check(context.Background(), tc.probe, 5*time.Second)
		if err != nil || ok != tc.ok || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: ok %v msg %q err %v; want %v %q", tc.name, ok, msg, err, tc.ok, tc.msg)
		}
	}
	if _, _, err := c.check(context.Background(), tcp(intstr.FromString("nope")), time.Second); err == nil {
		t.Error("unknown port name: want an error")
	}
	if _, _, err := c.check(context.Background(), &corev1.Probe{}, time.Second); err == nil {
		t.Error("no handler: want an error")
	}
}

// closedPort is a loopback port nothing listens on (just released).
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestCheckGRPC asks a real gRPC health server on loopback.
func TestCheckGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(l)
	defer srv.Stop()
	c := &checker{ctr: &corev1.Container{Name: "api"}, podIP: "127.0.0.1"}
	port := int32(l.Addr().(*net.TCPAddr).Port)
	down, unknown := "down", "nope"
	for _, tc := range []struct {
		action corev1.GRPCAction
		ok     bool
		msg    string
	}{
		{corev1.GRPCAction{Port: port}, true, ""},
		{corev1.GRPCAction{Port: port, Service: &down}, false, "NOT_SERVING"},
		{corev1.GRPCAction{Port: port, Service: &unknown}, false, "NotFound"},
		{corev1.GRPCAction{Port: int32(closedPort(t))}, false, "connection refused"},
	} {
		a := tc.action
		ok, msg, err := c.check(context.Background(), &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &a}}, 5*time.Second)
		if err != nil || ok != tc.ok || !strings.Contains(msg, tc.msg) {
			t.Errorf("%+v: ok %v msg %q err %v; want %v %q", tc.action, ok, msg, err, tc.ok, tc.msg)
		}
	}
	if _, _, err := c.check(context.Background(), &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{}}}, time.Second); err == nil {
		t.Error("port 0: want an error")
	}
}
