package localcluster

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "lchelper" && os.Args[2] == "blank-cmdline" {
		os.Exit(blankCmdlineHelper(os.Args[3]))
	}
	code := m.Run()
	testutil.RemoveBuiltBin()
	os.Exit(code)
}

// blankCmdlineHelper is a child process of the tests whose
// /proc/PID/cmdline holds no command line (one NUL), like that of a
// process between exec's point of no return and its new argument setup
// (which reads empty). Through /proc/self/mem it zeroes the first byte
// of its argument area and makes the last one non-zero, so the kernel
// takes the area for a process title ending at its first NUL. Then it writes ready and sleeps for at
// most a minute.
func blankCmdlineHelper(ready string) int {
	if err := blankCmdline(); err != nil {
		fmt.Fprintln(os.Stderr, "blank the command line:", err)
		return 1
	}
	if err := os.WriteFile(ready, []byte("ready\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	time.Sleep(time.Minute)
	return 0
}

func blankCmdline() error {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return err
	}
	// Fields 48 and 49 are arg_start and arg_end; 46 and 47 fields
	// follow the state (field 3).
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 47 {
		return fmt.Errorf("/proc/self/stat has %d fields after the name", len(f))
	}
	start, err1 := strconv.ParseInt(f[45], 10, 64)
	end, err2 := strconv.ParseInt(f[46], 10, 64)
	if err1 != nil || err2 != nil || end-start < 2 {
		return fmt.Errorf("arg_start %q, arg_end %q", f[45], f[46])
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer mem.Close()
	if _, err := mem.WriteAt([]byte{0}, start); err != nil {
		return err
	}
	_, err = mem.WriteAt([]byte{'x'}, end-1)
	return err
}
