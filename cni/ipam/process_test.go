package ipam

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var kills = flag.Int("ipam.kills", 0, "kill -9 rounds in TestKillMidAllocation (default 500, 100 with -short)")

// childEnv switches the test binary into an allocating child process: it
// allocates WEIR_IPAM_COUNT keys named WEIR_IPAM_PREFIX-<n>/eth0 and prints
// "key addr" after each committed allocation.
const childEnv = "WEIR_IPAM_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func runChild() int {
	r, err := ParseRange(os.Getenv("WEIR_IPAM_CIDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	count, _ := strconv.Atoi(os.Getenv("WEIR_IPAM_COUNT"))
	prefix := os.Getenv("WEIR_IPAM_PREFIX")
	out := bufio.NewWriter(os.Stdout)
	for i := 0; i < count; i++ {
		k := Key{ContainerID: fmt.Sprintf("%s-%d", prefix, i), IfName: "eth0"}
		err := With(os.Getenv("WEIR_IPAM_DIR"), "weir", Options{LockTimeout: time.Minute}, func(s *Store) error {
			a, _, err := s.Allocate(r, k)
			if err == nil {
				fmt.Fprintf(out, "%s %s\n", k, a)
			}
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out.Flush() // acknowledged only after the commit returned
	}
	return 0
}

func child(t *testing.T, dir, cidr, prefix string, count int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "WEIR_IPAM_DIR="+dir, "WEIR_IPAM_CIDR="+cidr,
		"WEIR_IPAM_PREFIX="+prefix, "WEIR_IPAM_COUNT="+strconv.Itoa(count))
	return cmd
}

// parseAcks reads "key addr" lines.
func parseAcks(t *testing.T, out []byte) map[Key]netip.Addr {
	t.Helper()
	acks := map[Key]netip.Addr{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue // a line cut by the kill was never acknowledged
		}
		k, err1 := ParseKey(f[0])
		a, err2 := netip.ParseAddr(f[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("bad child line %q", line)
		}
		acks[k] = a
	}
	return acks
}

func TestConcurrentProcessesGetDistinctAddresses(t *testing.T) {
	dir := t.TempDir()
	const procs = 64
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = child(t, dir, "10.244.1.0/24", fmt.Sprintf("p%d", i), 2).Output()
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]Key{}
	for i := 0; i < procs; i++ {
		if errs[i] != nil {
			t.Fatalf("child %d: %v", i, errs[i])
		}
		for k, a := range parseAcks(t, outs[i]) {
			if other, dup := seen[a]; dup {
				t.Fatalf("%s given to both %s and %s", a, other, k)
			}
			seen[a] = k
		}
	}
	if len(seen) != 2*procs {
		t.Fatalf("%d addresses acknowledged, want %d", len(seen), 2*procs)
	}
	checkStoreMatches(t, dir, seen)
}

func checkStoreMatches(t *testing.T, dir string, want map[netip.Addr]Key) {
	t.Helper()
	err := With(dir, "weir", Options{}, func(s *Store) error {
		if err := s.Check(); err != nil {
			return err
		}
		all, err := s.List()
		if err != nil {
			return err
		}
		if len(all) != len(want) {
			return fmt.Errorf("store holds %d allocations, want %d", len(all), len(want))
		}
		for _, a := range all {
			if want[a.Addr] != a.Key {
				return fmt.Errorf("store: %s owned by %s, want %s", a.Addr, a.Key, want[a.Addr])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKillMidAllocation kills allocating processes at random moments. After
// every round the store must open, be consistent and hold every
// acknowledged allocation; at the end GC with the acknowledged keys as the
// valid attachments must leave exactly those.
func TestKillMidAllocation(t *testing.T) {
	rounds := *kills
	if rounds == 0 {
		rounds = 500
		if testing.Short() {
			rounds = 100
		}
	}
	dir := t.TempDir()
	acked := map[Key]netip.Addr{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	killedEarly := 0
	for round := 0; round < rounds; round++ {
		var out bytes.Buffer
		cmd := child(t, dir, "10.244.0.0/16", fmt.Sprintf("r%d", round), 20)
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(15000)) * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			t.Logf("round %d finished before the kill", round)
		} else {
			killedEarly++
		}
		for k, a := range parseAcks(t, out.Bytes()) {
			acked[k] = a
		}
	}
	t.Logf("%d rounds, %d killed mid-run, %d allocations acknowledged", rounds, killedEarly, len(acked))
	gcAndVerify(t, dir, acked)
}

func gcAndVerify(t *testing.T, dir string, acked map[Key]netip.Addr) {
	t.Helper()
	valid := make([]Key, 0, len(acked))
	want := map[netip.Addr]Key{}
	for k, a := range acked {
		valid = append(valid, k)
		want[a] = k
	}
	leaked := 0
	err := With(dir, "weir", Options{}, func(s *Store) error {
		if err := s.Check(); err != nil {
			return err
		}
		for k, a := range acked {
			if got, ok, _ := s.Lookup(k); !ok || got != a {
				return fmt.Errorf("acknowledged %s=%s lost: store has %s %v", k, a, got, ok)
			}
		}
		all, err := s.List()
		if err != nil {
			return err
		}
		stale := Stale(all, valid)
		leaked = len(stale)
		_, err = s.ReleaseAll(stale)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GC reclaimed %d allocations committed by killed processes but never acknowledged", leaked)
	checkStoreMatches(t, dir, want)
}
