package api_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory of the
// test's temp dir and unmounts it at cleanup (registered first, so it
// runs after the store on it closed). Skips without the privilege.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		if os.Getenv("CI") == "" && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)) {
			t.Skipf("mount tmpfs: %v (needs CAP_SYS_ADMIN)", err)
		}
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file in dir until the file system is full; removing it
// frees the space.
func fill(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := 0; i < 1<<16; i++ {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return name
		}
	}
	t.Fatal("fill: the file system never filled up")
	return ""
}

// TestDiskFullMemberNotReady: a member whose data dir is on a full tmpfs
// falls behind; within 10 s its /readyz answers 503 saying it lags and
// cannot apply (members?probe=true relays that body), its
// linearizable reads fail with a 503 naming the cause (not "no raft
// leader"), and its stale reads carry a 299 Warning. Freed space makes
// it catch up and ready again.
func TestDiskFullMemberNotReady(t *testing.T) {
	if testing.Short() {
		t.Skip("three members and a tmpfs")
	}
	small := mountTmpfs(t, 24<<20)
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap = true
	m1 := storetest.Open(t, cfg)
	e1 := newEnvOn(t, m1, smallCIDR)
	c2 := storetest.Config("m2", t.TempDir())
	c2.Join = []string{m1.PeerAddr()}
	newEnvOn(t, storetest.Open(t, c2), smallCIDR)
	c3 := storetest.Config("m3", small)
	c3.Join = []string{m1.PeerAddr()}
	m3 := storetest.Open(t, c3)
	e3 := newEnvOn(t, m3, smallCIDR)
	deadline := time.Now().Add(30 * time.Second)
	for !allVoters(m1, 3) {
		if time.Now().After(deadline) {
			t.Fatal("the cluster did not reach 3 voters in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e3.reqToken("", "GET", "/readyz", nil).must(t, 200)

	filler := fill(t, small)
	// Write through m1 until m3 stops keeping up: large ConfigMaps, so
	// that m3's log cannot reuse freed pages.
	big := strings.Repeat("x", 256<<10)
	start := time.Now()
	var notReady *resp
	for i := 0; time.Since(start) < 10*time.Second; i++ {
		e1.req("POST", "/api/v1/namespaces/default/configmaps", map[string]any{
			"metadata": map[string]any{"name": fmt.Sprintf("cm-%d", i)}, "data": map[string]string{"v": big}}).must(t, 201)
		if r := e3.reqToken("", "GET", "/readyz", nil); r.code != 200 {
			notReady = r
			break
		}
	}
	if notReady == nil {
		t.Fatal("the member on a full disk still reports ready after 10s of writes")
	}
	t.Logf("not ready after %v: %s", time.Since(start).Round(time.Millisecond), notReady.body)
	if notReady.code != 503 || !strings.Contains(string(notReady.body), "lagging") {
		t.Errorf("/readyz: %d %s; want 503 saying lagging", notReady.code, notReady.body)
	}
	// Its clients get a clear error, at once once it knows it cannot apply.
	var msg string
	for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
		st := e3.req("GET", "/api/v1/namespaces/default/configmaps?limit=1", nil)
		msg = string(st.body)
		if st.code == 503 && strings.Contains(msg, "cannot apply") {
			break
		}
	}
	if !strings.Contains(msg, "lagging") || !strings.Contains(msg, "cannot apply") || !strings.Contains(msg, "no space left on device") || strings.Contains(msg, "no raft leader") {
		t.Errorf("a read on the full member: %s; want 503 lagging, cannot apply: ...no space left on device", msg)
	}
	stale := e3.req("GET", "/api/v1/namespaces/default/configmaps?resourceVersion=0&limit=1", nil).must(t, 200)
	if w := stale.header.Get("Warning"); !strings.HasPrefix(w, `299 - "`) || !strings.Contains(w, "lagging") {
		t.Errorf("stale read from the full member: Warning %q; want 299 ... lagging", w)
	}
	// Free the space: m3 catches up and is ready again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for wait := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := e3.reqToken("", "GET", "/readyz", nil)
		if r.code == 200 {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("still not ready 30s after space was freed: %s", r.body)
		}
	}
	if m3.Revision() < m1.Revision() {
		if err := waitRevision(m3, m1.Revision()); err != nil {
			t.Error(err)
		}
	}
}

func waitRevision(s *store.Store, rev uint64) error {
	for wait := time.Now().Add(10 * time.Second); s.Revision() < rev; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(wait) {
			return fmt.Errorf("member at revision %d, want %d", s.Revision(), rev)
		}
	}
	return nil
}
