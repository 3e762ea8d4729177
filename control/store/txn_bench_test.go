package store_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
)

// BenchmarkTxnCreate measures one client's create Txns (a ConfigMap-sized
// value, MustNotExist) on a three-member cluster, sent to the leader and
// to a follower (forwarded), and reports the median latency.
func BenchmarkTxnCreate(b *testing.B) {
	for _, via := range []string{"leader", "follower"} {
		b.Run(via, func(b *testing.B) {
			ms := startCluster(b, nil)
			li := -1
			for i, m := range ms {
				if m.IsLeader() {
					li = i
				}
			}
			target := ms[li]
			if via == "follower" {
				target = ms[(li+1)%3]
			}
			value := bytes.Repeat([]byte("x"), 256)
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := store.Key{Resource: "configmaps", Namespace: "bench", Name: fmt.Sprintf("%s-%d", via, i)}
				t0 := time.Now()
				_, err := target.Txn(ctx, store.Txn{
					Conds: []store.Cond{{Kind: store.MustNotExist, Key: k}},
					Ops:   []store.Op{{Kind: store.Put, Key: k, Value: value}},
				})
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		})
	}
}

// BenchmarkTxnCreateAged is BenchmarkTxnCreate on a cluster that has
// written and truncated ~100 MiB of raft log and compacted its history,
// as a long-running cluster has: the databases hold many free pages.
func BenchmarkTxnCreateAged(b *testing.B) {
	ms := startCluster(b, func(c *store.Config) {
		c.SnapshotThreshold, c.TrailingLogs, c.SnapshotInterval = 1024, 256, 100*time.Millisecond
		c.HistoryRevisions = 1000
	})
	_, leader := leaderOf(b, ms)
	fill(b, leader, 1200, 20, 4096)
	time.Sleep(time.Second) // a snapshot and log truncation
	value := bytes.Repeat([]byte("x"), 256)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := store.Key{Resource: "configmaps", Namespace: "bench", Name: fmt.Sprintf("aged-%d", i)}
		t0 := time.Now()
		_, err := leader.Txn(ctx, store.Txn{
			Conds: []store.Cond{{Kind: store.MustNotExist, Key: k}},
			Ops:   []store.Op{{Kind: store.Put, Key: k, Value: value}},
		})
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
}

// fill writes txns Txns of ops Puts of size bytes each, from 16 writers,
// each Put replacing the same key set so that history compaction frees
// pages too.
func fill(b *testing.B, s *store.Store, txns, ops, size int) {
	b.Helper()
	value := bytes.Repeat([]byte("f"), size)
	ctx := context.Background()
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		go func() {
			for i := w; i < txns; i += 16 {
				t := store.Txn{}
				for j := 0; j < ops; j++ {
					k := store.Key{Resource: "fill", Namespace: "bench", Name: fmt.Sprintf("%d-%d", w, j)}
					t.Ops = append(t.Ops, store.Op{Kind: store.Put, Key: k, Value: value})
				}
				if _, err := s.Txn(ctx, t); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < 16; w++ {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTxnCreate64 measures the throughput of 64 concurrent clients
// creating 4 KiB objects through the leader, after 20000 earlier writes
// (a full window of retained request IDs).
func BenchmarkTxnCreate64(b *testing.B) {
	ms := startCluster(b, nil)
	_, leader := leaderOf(b, ms)
	fill(b, leader, 20000, 1, 256)
	value := bytes.Repeat([]byte("x"), 4096)
	ctx := context.Background()
	var next atomic.Int64
	errs := make(chan error, 64)
	b.ResetTimer()
	for w := 0; w < 64; w++ {
		go func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					errs <- nil
					return
				}
				k := store.Key{Resource: "pods", Namespace: "bench", Name: fmt.Sprintf("p-%d", i)}
				_, err := leader.Txn(ctx, store.Txn{
					Conds: []store.Cond{{Kind: store.MustNotExist, Key: k}},
					Ops:   []store.Op{{Kind: store.Put, Key: k, Value: value}},
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := 0; w < 64; w++ {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
