// Package benchreport writes benchmark results into docs/benchmarks.md.
// Each benchmark owns one section between the markers
// <!-- bench:NAME --> and <!-- /bench:NAME -->, so benchmarks run at
// different times update their own figures without touching the others'.
// Results also go to a JSON file beside the markdown (docs/bench/NAME.json).
package benchreport
