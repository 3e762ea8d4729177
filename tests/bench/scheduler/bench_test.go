package scheduler

import "testing"

// TestMeasureSmall runs the benchmark workload at a small size: every pod is
// placed and least-allocated spreads them evenly.
func TestMeasureSmall(t *testing.T) {
	for _, sample := range []bool{false, true} {
		r, err := Measure(200, 400, sample)
		if err != nil {
			t.Fatal(err)
		}
		if r.Scheduled != 400 || r.MaxPerNode > 4 {
			t.Fatalf("sample=%v: %+v: want 400 pods, at most 4 per node", sample, r)
		}
	}
}

func BenchmarkSchedule5000Nodes(b *testing.B) {
	for range b.N {
		if _, err := Measure(5000, 1000, false); err != nil {
			b.Fatal(err)
		}
	}
}
