package main

import (
	"fmt"
	"log/slog"
	"os"
)

// newLogger is the text logger on stderr at a --log-level (debug, info,
// warn, error) that the daemons (server, agent) share.
func newLogger(level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}
