package localcluster

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEmptyCmdlineIsStillRunning: a recorded process whose
// /proc/PID/cmdline holds no command line, as every process's does while
// it is inside exec (nsenter exec'ing weir), is running for Up (its member is
// not "exited") and for Down (which stops it). Judged by its command line
// (weir before start times), such a member was called exited by Up and
// skipped by Down, and outlived the test.
func TestEmptyCmdlineIsStillRunning(t *testing.T) {
	var out bytes.Buffer
	cfg := Config{DataDir: t.TempDir(), Bin: "/nonexistent", Out: &out}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(cfg.DataDir, "ready-helper")
	c, err := startProc(&cfg, "control-1", "", os.Args[0], "lchelper", "blank-cmdline", ready)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stopProc(c.id, time.Second) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if err := c.exited(); err != nil {
			t.Fatalf("helper: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("helper not ready after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(c.id.PID) + "/cmdline"); err != nil || len(bytes.Trim(cmdline, "\x00")) != 0 {
		t.Fatalf("helper's cmdline %q, %v; want no command line", cmdline, err)
	}
	if err := c.exited(); err != nil {
		t.Fatalf("Up's view: %v", err)
	}
	if name, pid, ok := runningMember(&cfg); !ok || name != "control-1" || pid != c.id.PID {
		t.Fatalf("runningMember = %s, %d, %t; want control-1, %d, true", name, pid, ok, c.id.PID)
	}
	if err := stopRecorded(&cfg, "control-1", "weir", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the helper still runs after stopRecorded")
	}
	if err := c.exited(); err == nil || !strings.Contains(err.Error(), "signal: terminated") {
		t.Errorf("exit of a stopped helper: %v", err)
	}
	if log := logTail(cfg.logFile("control-1"), 5); !strings.Contains(log, "weir up: control-1 (PID "+strconv.Itoa(c.id.PID)+") exited: signal: terminated") {
		t.Errorf("its log does not say how it exited:\n%s", log)
	}
	for _, f := range []string{cfg.pidFile("control-1"), startFile(&cfg, "control-1")} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is left: %v", f, err)
		}
	}
}

// TestRecycledPIDIsNotStopped: a record whose PID now names another
// process (another start time) is not running and stopRecorded leaves
// that process alone; a record from a weir before start times still
// finds its process by command line.
func TestRecycledPIDIsNotStopped(t *testing.T) {
	var out bytes.Buffer
	cfg := Config{DataDir: t.TempDir(), Bin: "/nonexistent", Out: &out}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	_, start, err := procStat(other.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The recorded process started one tick earlier and exited; its PID
	// went to sleep.
	if err := writeRecord(&cfg, "node-1", procID{other.Process.Pid, start - 1}); err != nil {
		t.Fatal(err)
	}
	if _, ok := runningRecorded(&cfg, "node-1", "sleep"); ok {
		t.Fatal("a recycled PID is taken for the recorded process")
	}
	if err := stopRecorded(&cfg, "node-1", "sleep", time.Second); err != nil {
		t.Fatal(err)
	}
	if !(procID{other.Process.Pid, start}).running() {
		t.Fatal("stopRecorded signalled a recycled PID")
	}
	// A legacy record: PID only, found by its command line.
	if err := os.WriteFile(cfg.pidFile("node-2"), []byte(strconv.Itoa(other.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := runningRecorded(&cfg, "node-2", "weir"); ok {
		t.Error("a legacy record took a process whose command line does not name weir")
	}
	if id, ok := runningRecorded(&cfg, "node-2", "sleep"); !ok || id.Start != start {
		t.Errorf("legacy record: %+v, %t", id, ok)
	}
}
