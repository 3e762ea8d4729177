package dns

import (
	"io"
	"log/slog"
	"testing"

	weirdns "github.com/weirnet/weir/dns"
)

// BenchmarkUpdate10k times a full snapshot of the benchmark cluster.
func BenchmarkUpdate10k(b *testing.B) {
	c := generate(10000, 50000)
	s, err := weirdns.NewServer(weirdns.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s.Update(c.services, c.slices, c.pods)
	}
}
