package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestApplyRetriesWhenDiskFull: when the state db cannot be written (its
// file system is full), ApplyBatch neither panics nor skips the entry: it
// records the cause (applyFailure names ENOSPC), keeps retrying, and
// applies the batch once space is freed; closing the store ends the
// retries with an error result instead.
func TestApplyRetriesWhenDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		if os.Getenv("CI") == "" && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)) {
			t.Skipf("mount tmpfs: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	f, err := openFSM(filepath.Join(dir, "state.db"), 1000, newHub(0, func(e Event) (Event, error) { return e, nil }))
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	f.stop = stop
	defer f.close()
	entry := func(i uint64, size int) *raft.Log {
		k := Key{Resource: "configmaps", Namespace: "default", Name: fmt.Sprintf("c%d", i)}
		return &raft.Log{Index: i, Type: raft.LogCommand, Data: encodeTxn(Txn{ID: fmt.Sprint(i), Ops: []Op{{Kind: Put, Key: k, Value: []byte(strings.Repeat("x", size))}}})}
	}
	if out := f.ApplyBatch([]*raft.Log{entry(1, 10)}); out[0] == nil {
		t.Fatal("first apply: no result")
	}
	filler := filepath.Join(dir, "filler")
	fh, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := fh.Write(make([]byte, 64<<10)); err != nil {
			break
		}
	}
	fh.Close()
	done := make(chan []interface{}, 1)
	go func() { done <- f.ApplyBatch([]*raft.Log{entry(2, 1<<20)}) }()
	deadline := time.Now().Add(5 * time.Second)
	for f.applyFailure() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no apply failure recorded on a full disk")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.applyFailure(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("apply failure %v, want ENOSPC", err)
	}
	select {
	case <-done:
		t.Fatal("ApplyBatch returned while the disk was full")
	case <-time.After(300 * time.Millisecond):
	}
	if a, _ := f.appliedIndex(); a != 1 {
		t.Errorf("applied %d while failing, want 1", a)
	}
	os.Remove(filler)
	select {
	case out := <-done:
		if err, ok := out[0].(error); ok {
			t.Fatalf("apply after space was freed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ApplyBatch did not finish after space was freed")
	}
	if a, _ := f.appliedIndex(); a != 2 || f.applyFailure() != nil {
		t.Errorf("applied %d, failure %v; want 2, nil", a, f.applyFailure())
	}
	o, err := f.localGet(Key{Resource: "configmaps", Namespace: "default", Name: "c2"})
	if err != nil || len(o.Value) != 1<<20 {
		t.Errorf("c2 after the retry: %v (%d bytes)", err, len(o.Value))
	}
	// Closing ends a failing apply with an error result.
	fill2, _ := os.Create(filler)
	for {
		if _, err := fill2.Write(make([]byte, 64<<10)); err != nil {
			break
		}
	}
	fill2.Close()
	go func() { done <- f.ApplyBatch([]*raft.Log{entry(3, 2<<20)}) }()
	for deadline := time.Now().Add(5 * time.Second); f.applyFailure() == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no apply failure recorded the second time")
		}
	}
	close(stop)
	select {
	case out := <-done:
		if _, ok := out[0].(error); !ok {
			t.Errorf("apply ended by close: %v, want an error", out[0])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ApplyBatch kept retrying after the store closed")
	}
	os.Remove(filler)
}
