package main

import (
	"fmt"
	"log/slog"
	"os"

	"k8s.io/klog/v2"
)

// newLogger is the text logger on stderr at a --log-level (debug, info,
// warn, error) that the daemons (server, agent) share. The Kubernetes
// libraries' klog output goes to it too, so that one daemon writes one
// log format.
func newLogger(level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	l := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	klog.SetSlogLogger(l.With("source", "k8s"))
	return l, nil
}
