package benchreport

import (
	"os"
	"testing"
	"time"
)

func TestProcCPU(t *testing.T) {
	before, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); { // burn some CPU
	}
	after, err := ProcCPU(os.Getpid())
	if err != nil || after <= before {
		t.Errorf("CPU time %v then %v (%v): want it to grow", before, after, err)
	}
	if _, err := ProcCPU(-1); err == nil {
		t.Error("no such process: want an error")
	}
}
