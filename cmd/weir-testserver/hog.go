package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// hog is `weir-testserver hog SIZE`: it allocates SIZE bytes (suffixes
// Ki, Mi, Gi) a MiB at a time, touching every page so the memory is
// really used, then sleeps. Tests use it to hit a container's memory
// limit and see the OOM killer end it.
func hog(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: weir-testserver hog SIZE (e.g. 256Mi)")
		return 2
	}
	size, err := parseSize(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "weir-testserver hog:", err)
		return 2
	}
	const chunk = 1 << 20
	var held [][]byte
	for total := int64(0); total < size; total += chunk {
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		held = append(held, b)
		if len(held)%64 == 0 {
			fmt.Printf("hog: %d MiB\n", len(held))
		}
	}
	fmt.Printf("hog: holding %d MiB\n", len(held))
	for {
		time.Sleep(time.Hour)
		_ = held[0][0]
	}
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = rest, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with Ki, Mi or Gi", s)
	}
	return n * mult, nil
}
