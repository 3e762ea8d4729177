package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestRecorded(t *testing.T) {
	dir := t.TempDir()
	if _, err := Recorded(dir); err == nil {
		t.Fatal("no records: want an error")
	}
	if err := os.MkdirAll(filepath.Join(dir, "pids"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, pid := range map[string]int{"control-1": 10, "w-node-1": 11, "containerd": 12, "api-proxy": 13} {
		if err := os.WriteFile(filepath.Join(dir, "pids", name+".pid"), []byte(fmt.Sprintf("%d\n", pid)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Recorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "[{api-proxy api-proxy 13} {containerd containerd 12} {control-1 member 10} {w-node-1 agent 11}]"
	if fmt.Sprint(got) != want {
		t.Errorf("Recorded = %v, want %s", got, want)
	}
	os.WriteFile(filepath.Join(dir, "pids", "bad.pid"), []byte("x"), 0o600)
	if _, err := Recorded(dir); err == nil {
		t.Error("a PID file without a number: want an error")
	}
}
