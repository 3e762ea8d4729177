// Command weir-testserver is the server in weir's test image: HTTP (GET /
// answers the hostname, /healthz answers 200), TCP echo and UDP echo.
// An empty address turns a listener off. `weir-testserver apicall URL
// [BODY]` is instead an in-cluster API client with the pod's
// ServiceAccount token (apicall.go); `weir-testserver hog SIZE` uses
// SIZE bytes of memory and holds them (hog.go). On SIGTERM it drains: it keeps
// serving for --drain with /healthz answering 503 and HTTP keep-alive off,
// then closes its listeners and exits, so that a rolling update loses no
// requests while the pod's endpoint removal propagates.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "apicall" { // an in-cluster API client (apicall.go)
		os.Exit(apiCall(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "hog" { // uses memory until the OOM killer ends it (hog.go)
		os.Exit(hog(os.Args[2:]))
	}
	cfg := config{}
	flag.StringVar(&cfg.HTTP, "http", ":8080", "HTTP listen address")
	flag.StringVar(&cfg.TCPEcho, "tcp-echo", ":9000", "TCP echo listen address")
	flag.StringVar(&cfg.UDPEcho, "udp-echo", ":9001", "UDP echo listen address")
	flag.StringVar(&cfg.Reply, "reply", "", "body of GET / (default: the hostname)")
	flag.DurationVar(&cfg.Drain, "drain", 2*time.Second, "after SIGTERM, keep serving this long with /healthz answering 503 (so the endpoint leaves its Service first), then exit")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, cfg, log); err != nil {
		fmt.Fprintln(os.Stderr, "weir-testserver:", err)
		os.Exit(1)
	}
}
