package dataplane

import (
	"flag"
	"os"
	"testing"

	"github.com/weirnet/weir/dataplane/internal/testclient"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestMain doubles as the entry point of the tests' child processes: the
// traffic client (WEIR_DP_CHILD=client) and the restartable dataplane
// owner (WEIR_DP_CHILD=owner).
func TestMain(m *testing.M) {
	switch os.Getenv("WEIR_DP_CHILD") {
	case "client":
		os.Exit(testclient.Main())
	case "owner":
		os.Exit(ownerMain())
	}
	os.Exit(m.Run())
}
