package servicelatency

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestMain doubles as the client child of TestQuickRun.
func TestMain(m *testing.M) {
	if os.Getenv(ChildEnv) == "client" {
		os.Exit(ChildMain())
	}
	os.Exit(m.Run())
}
