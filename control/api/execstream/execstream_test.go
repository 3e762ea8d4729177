package execstream

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	flushes := 0
	w := NewWriter(&b, func() { flushes++ })
	w.Stdout().Write([]byte("out-1\n"))
	w.Stderr().Write([]byte("err-1\n"))
	big := strings.Repeat("x", MaxPayload+10)
	w.Stdout().Write([]byte(big))
	w.Exit(42)
	if flushes != 5 {
		t.Errorf("%d flushes, want one per frame (5)", flushes)
	}
	var out, errb bytes.Buffer
	code, err := Read(&b, &out, &errb)
	if err != nil || code != 42 || out.String() != "out-1\n"+big || errb.String() != "err-1\n" {
		t.Fatalf("Read = %d %v, out %d bytes, err %q", code, err, out.Len(), errb.String())
	}
}

func TestEndings(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, nil)
	w.Stdout().Write([]byte("partial"))
	full := b.Bytes()
	var out bytes.Buffer
	if _, err := Read(bytes.NewReader(full), &out, &out); !errors.Is(err, ErrTruncated) {
		t.Errorf("no exit frame: %v, want ErrTruncated", err)
	}
	if _, err := Read(bytes.NewReader(full[:len(full)-2]), &out, &out); !errors.Is(err, ErrTruncated) {
		t.Errorf("cut frame: %v, want ErrTruncated", err)
	}
	w.Error("exec failed: no such file")
	var re *RemoteError
	if _, err := Read(bytes.NewReader(b.Bytes()), &out, &out); !errors.As(err, &re) || re.Message != "exec failed: no such file" {
		t.Errorf("error frame: %v", err)
	}
	if _, err := Read(bytes.NewReader([]byte{9, 0, 0, 0, 0}), &out, &out); err == nil || !strings.Contains(err.Error(), "unknown channel") {
		t.Errorf("unknown channel: %v", err)
	}
	if _, err := Read(bytes.NewReader([]byte{1, 0xff, 0, 0, 0}), &out, &out); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("huge frame: %v", err)
	}
	if _, err := Read(bytes.NewReader([]byte{3, 0, 0, 0, 2, 'x', 'y'}), &out, &out); err == nil {
		t.Error("bad exit code accepted")
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	w := NewWriter(&b, nil)
	w.Stdout().Write([]byte("hello\n"))
	w.Stderr().Write([]byte("oops\n"))
	w.Exit(3)
	f.Add(b.Bytes())
	f.Add([]byte{4, 0, 0, 0, 3, 'b', 'a', 'd'})
	f.Add([]byte{3, 0, 0, 0, 3, '2', '5', '5'})
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errb bytes.Buffer
		code, err := Read(bytes.NewReader(data), &out, &errb)
		if err == nil && (code < 0 || code > 255) {
			t.Fatalf("exit code %d out of range", code)
		}
		if out.Len()+errb.Len() > len(data) {
			t.Fatalf("more output (%d) than input (%d)", out.Len()+errb.Len(), len(data))
		}
	})
}
