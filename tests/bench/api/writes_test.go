package api

import (
	"strings"
	"testing"
)

// TestWriteLoadVerdict: the section's text judges each shape from the
// figures, against the no-watcher row of the same writer count.
func TestWriteLoadVerdict(t *testing.T) {
	row := func(writers, watchers int, shape string, perSec float64) WriteLoad {
		l := WriteLoad{Writers: writers, Watchers: watchers, Shape: shape, PerSecond: perSec, Writes: 200, Seconds: 1, ServerCPUms: 1}
		switch shape {
		case shapeKubelets:
			l.Nodes, l.Protocol, l.Connections, l.ByName, l.MediaType = 10, "HTTP/2.0", 10, true, mediaProto
		case shapeOneEach:
			l.Protocol, l.Connections, l.ByName = "HTTP/1.1", int64(watchers), true
		case shapeAll:
			l.Protocol, l.Connections = "HTTP/1.1", int64(watchers)
		}
		return l
	}
	loads := []WriteLoad{
		row(16, 0, "", 1000), row(16, 200, shapeKubelets, 600), row(16, 200, shapeOneEach, 400), row(16, 200, shapeAll, 100),
		row(64, 0, "", 2000), row(64, 200, shapeKubelets, 1000), row(64, 200, shapeOneEach, 1200), row(64, 200, shapeAll, 100),
	}
	var b strings.Builder
	writeLoadMarkdown(&b, loads)
	md := b.String()
	for _, want := range []string{
		"| 16 | 200 | kubelets (10 nodes x 20) | HTTP/2.0 | 10 | protobuf | 600 |",
		"| 64 | 200 | one-each | HTTP/1.1 | 200 | JSON | 1200 |",
		"- `kubelets` (200 watchers, HTTP/2.0, 10 connections): 0.60x at 16 writers, 0.50x at 64 writers; meets the bar at every writer count.",
		"- `one-each` (200 watchers, HTTP/1.1, 200 connections): 0.40x at 16 writers, 0.60x at 64 writers; misses it at 16 writers.",
		"- `all` (200 watchers, HTTP/1.1, 200 connections): 0.10x at 16 writers, 0.05x at 64 writers; misses it at 16 and 64 writers (informational).",
		"The kubelet-shaped fan-out meets the goal in this run.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	loads[5].PerSecond = 999 // 0.4995x
	b.Reset()
	writeLoadMarkdown(&b, loads)
	if md := b.String(); !strings.Contains(md, "does not meet the goal") || !strings.Contains(md, "`kubelets` (200 watchers, HTTP/2.0, 10 connections): 0.60x at 16 writers, 0.49x at 64 writers; misses it at 64 writers") {
		t.Errorf("a kubelet row below 0.5x is not called a miss:\n%s", md)
	}
}
