package api

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"

	"github.com/weirnet/weir/control/api/openapi"
)

// buildOpenAPI builds the documents of the served kinds afresh.
func buildOpenAPI(tb testing.TB) *openapi.Specs {
	tb.Helper()
	reg, err := newRegistry()
	if err != nil {
		tb.Fatal(err)
	}
	specs, err := openapi.Build(openAPIResources(reg), "v1.37.0")
	if err != nil {
		tb.Fatal(err)
	}
	return specs
}

// TestOpenAPIBuildCost measures what building and serialising the
// documents costs, once per process, and keeps it bounded.
func TestOpenAPIBuildCost(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	specs := buildOpenAPI(t)
	build := time.Since(start)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc

	start = time.Now()
	v2, err := json.Marshal(specs.V2)
	if err != nil {
		t.Fatal(err)
	}
	pb2, err := handler.ToProtoBinary(v2)
	if err != nil {
		t.Fatal(err)
	}
	v3Bytes, pb3Bytes := 0, 0
	for _, doc := range specs.V3 {
		j, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		p, err := handler3.ToV3ProtoBinary(j)
		if err != nil {
			t.Fatal(err)
		}
		v3Bytes, pb3Bytes = v3Bytes+len(j), pb3Bytes+len(p)
	}
	serialise := time.Since(start)
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	runtime.KeepAlive(specs)
	t.Logf("build %v (%.1f MB allocated); JSON+protobuf of every document %v; v2 %d definitions, %d paths, JSON %d KB, protobuf %d KB; v3 %d documents, JSON %d KB, protobuf %d KB; live heap after build %.1f MB",
		build, float64(allocated)/1e6, serialise, len(specs.V2.Definitions), len(specs.V2.Paths.Paths), len(v2)/1024, len(pb2)/1024,
		len(specs.V3), v3Bytes/1024, pb3Bytes/1024, float64(live.HeapAlloc)/1e6)
	if build > 5*time.Second || allocated > 500e6 {
		t.Errorf("building the documents costs %v and %d bytes", build, allocated)
	}
}

func BenchmarkOpenAPIBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		buildOpenAPI(b)
	}
}
