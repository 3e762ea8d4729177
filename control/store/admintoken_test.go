package store_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirnet/weir/control/store"
)

// TestRotateToken: RotateTokenAt through a follower replaces the API
// token on all three members (Tokens, Token, TokenFile); with a member
// down it fails naming it and leaves the token in force alone on the
// others (nothing staged is left behind).
func TestRotateToken(t *testing.T) {
	var dirs []string
	ms := startCluster(t, func(c *store.Config) {
		c.TokenFile = filepath.Join(c.DataDir, "token")
		dirs = append(dirs, c.DataDir)
	})
	ctx := ctxT(t)
	li, _ := leaderOf(t, ms)
	fi := (li + 1) % 3
	res, err := store.RotateTokenAt(ctx, dirs[fi], ms[fi].PeerAddr())
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "test-token" || len(res.Token) < 32 || !slices.Equal(res.Members, []string{"m1", "m2", "m3"}) {
		t.Fatalf("rotation: %+v", res)
	}
	for i, m := range ms {
		if got := m.Tokens(); !slices.Equal(got, []string{res.Token}) || m.Token() != res.Token {
			t.Fatalf("member %d accepts %v", i, got)
		}
		if b, err := os.ReadFile(filepath.Join(dirs[i], "token")); err != nil || strings.TrimSpace(string(b)) != res.Token {
			t.Fatalf("member %d token file: %q %v", i, b, err)
		}
	}

	down := (li + 2) % 3
	if err := ms[down].Close(); err != nil {
		t.Fatal(err)
	}
	_, err = store.RotateTokenAt(ctx, dirs[li], ms[li].PeerAddr())
	name := []string{"m1", "m2", "m3"}[down]
	if err == nil || !strings.Contains(err.Error(), name+" (") || !strings.Contains(err.Error(), "old token stays in force") {
		t.Fatalf("rotation with %s down: %v", name, err)
	}
	for i, m := range ms {
		if i == down {
			continue
		}
		if got := m.Tokens(); !slices.Equal(got, []string{res.Token}) {
			t.Fatalf("member %d accepts %v after a failed rotation, want only %s", i, got, res.Token)
		}
		if b, _ := os.ReadFile(filepath.Join(dirs[i], "token")); strings.TrimSpace(string(b)) != res.Token {
			t.Fatalf("member %d token file changed by a failed rotation", i)
		}
	}
}

// TestCallAt: a member operation runs on the leader, reached through a
// follower with its member certificate; an unknown one is an error, and a
// data dir without a member certificate is refused.
func TestCallAt(t *testing.T) {
	var dirs []string
	ms := startCluster(t, func(c *store.Config) {
		name := c.Name
		c.Ops = map[string]store.MemberOp{"echo": func(ctx context.Context, req json.RawMessage) (any, error) {
			var in string
			if err := json.Unmarshal(req, &in); err != nil {
				return nil, err
			}
			return name + ":" + in, nil
		}}
		dirs = append(dirs, c.DataDir)
	})
	ctx := ctxT(t)
	li, _ := leaderOf(t, ms)
	fi := (li + 1) % 3
	var out string
	if err := store.CallAt(ctx, dirs[fi], ms[fi].PeerAddr(), "echo", "hi", &out); err != nil {
		t.Fatal(err)
	}
	if want := []string{"m1", "m2", "m3"}[li] + ":hi"; out != want {
		t.Fatalf("echo answered %q, want %q (run on the leader)", out, want)
	}
	if err := store.CallAt(ctx, dirs[fi], ms[fi].PeerAddr(), "nope", nil, nil); err == nil || !strings.Contains(err.Error(), `no operation "nope"`) {
		t.Fatalf("unknown operation: %v", err)
	}
	if err := store.CallAt(ctx, t.TempDir(), ms[fi].PeerAddr(), "echo", "hi", &out); err == nil || !strings.Contains(err.Error(), "member certificate") {
		t.Fatalf("without a member certificate: %v", err)
	}
}
