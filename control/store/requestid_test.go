package store_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
)

func TestNewRequestIDUniqueAndTimeOrdered(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := store.NewRequestID()
		if _, err := hex.DecodeString(id); err != nil || len(id) != 32 {
			t.Fatalf("ID %q: want 32 hex characters", id)
		}
		if seen[id] {
			t.Fatalf("ID %q issued twice", id)
		}
		seen[id] = true
	}
	a := store.NewRequestID()
	time.Sleep(2 * time.Millisecond)
	if b := store.NewRequestID(); b <= a {
		t.Fatalf("ID %q issued later sorts before %q", b, a)
	}
}
