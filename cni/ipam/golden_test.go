package ipam

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden runs each testdata/*.txt script against a fresh store and
// compares the transcript (every command, its result and the dumps) with
// testdata/*.golden. Commands:
//
//	range CIDR          set the pod CIDR for later allocs
//	alloc ID/IF         allocate
//	release ID/IF       release
//	gc ID/IF ...        release everything not listed
//	dump                print the store
func TestGolden(t *testing.T) {
	scripts, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, path := range scripts {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := runScript(t, path)
			golden := strings.TrimSuffix(path, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./cni/ipam/ -run TestGolden -update` to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("transcript differs from %s (rerun with -update if intended):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func runScript(t *testing.T, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, s := openTemp(t)
	var r Range
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fmt.Fprintf(&out, "> %s\n", line)
		f := strings.Fields(line)
		if err := runCommand(s, &r, f[0], f[1:], &out); err != nil {
			t.Fatalf("%s: %s: %v", path, line, err)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatalf("%s: store inconsistent at the end: %v", path, err)
	}
	return out.Bytes()
}

func runCommand(s *Store, r *Range, cmd string, args []string, out *bytes.Buffer) error {
	keys := make([]Key, 0, len(args))
	for _, a := range args {
		if k, err := ParseKey(a); err == nil {
			keys = append(keys, k)
		}
	}
	switch cmd {
	case "range":
		nr, err := ParseRange(args[0])
		*r = nr
		return err
	case "alloc":
		a, created, err := s.Allocate(*r, keys[0])
		switch {
		case errors.Is(err, ErrExhausted):
			fmt.Fprintln(out, "exhausted")
		case err != nil:
			return err
		default:
			fmt.Fprintf(out, "%s created=%v\n", a, created)
		}
	case "release":
		a, ok, err := s.Release(keys[0])
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(out, "nothing to release")
			return nil
		}
		fmt.Fprintf(out, "released %s\n", a)
	case "gc":
		all, err := s.List()
		if err != nil {
			return err
		}
		stale := Stale(all, keys)
		n, err := s.ReleaseAll(stale)
		fmt.Fprintf(out, "released %d\n", n)
		return err
	case "dump":
		return s.Dump(out)
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	return nil
}
