package api

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
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

// TestProtoEventType reads the type of protobuf watch events framed as the
// server frames them (apimachinery's protobuf stream serializer).
func TestProtoEventType(t *testing.T) {
	info, ok := kruntime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), mediaProto)
	if !ok || info.StreamSerializer == nil {
		t.Fatal("no protobuf stream serializer")
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w-01", Namespace: ns}, Data: map[string]string{"n": "1"}}
	cm.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	raw, err := kruntime.Encode(info.Serializer, cm)
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	for _, typ := range []string{"ADDED", "MODIFIED", "BOOKMARK", "DELETED"} {
		ev := &metav1.WatchEvent{Type: typ, Object: kruntime.RawExtension{Raw: raw}}
		if err := info.StreamSerializer.Serializer.Encode(ev, info.StreamSerializer.Framer.NewFrameWriter(&stream)); err != nil {
			t.Fatal(err)
		}
	}
	fr := protobuf.LengthDelimitedFramer.NewFrameReader(io.NopCloser(&stream))
	buf := make([]byte, 8) // smaller than a frame: readFrame grows it
	var got []string
	for {
		n, err := readFrame(fr, &buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		typ, err := protoEventType(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, typ)
	}
	if want := "ADDED MODIFIED BOOKMARK DELETED"; strings.Join(got, " ") != want {
		t.Errorf("event types %q, want %q", got, want)
	}
	if _, err := protoEventType([]byte(`{"type":"ADDED"}`)); err == nil {
		t.Error("a JSON frame was read as a protobuf event")
	}
}

// TestKubeletConfigMaps: each node watches distinct ConfigMaps, the same
// ones every run.
func TestKubeletConfigMaps(t *testing.T) {
	sh := fanOutShape{shape: shapeKubelets, watchers: 2000, nodes: 100}
	cms := sh.configMaps()
	if len(cms) != 2000 {
		t.Fatalf("%d watchers, want 2000", len(cms))
	}
	for n := 0; n < 100; n++ {
		seen := map[int]bool{}
		for _, cm := range cms[n*20 : n*20+20] {
			if cm < 0 || cm >= writeCMs || seen[cm] {
				t.Fatalf("node %d watches %v: want 20 distinct ConfigMaps of %d", n, cms[n*20:n*20+20], writeCMs)
			}
			seen[cm] = true
		}
	}
	if again := sh.configMaps(); !slices.Equal(cms, again) {
		t.Error("two draws differ")
	}
}
