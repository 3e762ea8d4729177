package kubectl

import (
	"os"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuiltBin()
	os.Exit(code)
}
