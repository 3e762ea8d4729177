// Command weir-testserver is the server in weir's test image: HTTP (GET /
// answers the hostname, /healthz answers 200), TCP echo and UDP echo.
// An empty address turns a listener off.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg := config{}
	flag.StringVar(&cfg.HTTP, "http", ":8080", "HTTP listen address")
	flag.StringVar(&cfg.TCPEcho, "tcp-echo", ":9000", "TCP echo listen address")
	flag.StringVar(&cfg.UDPEcho, "udp-echo", ":9001", "UDP echo listen address")
	flag.StringVar(&cfg.Reply, "reply", "", "body of GET / (default: the hostname)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, cfg, log); err != nil {
		fmt.Fprintln(os.Stderr, "weir-testserver:", err)
		os.Exit(1)
	}
}
