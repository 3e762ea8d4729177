package clientgo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
	"github.com/weirnet/weir/tests/testutil"
)

// result mirrors informers.Result.
type result struct {
	SyncMillis   float64   `json:"syncMillis"`
	Services     int       `json:"services"`
	Namespaces   int       `json:"namespaces"`
	UpdateMillis []float64 `json:"updateMillis"`
	UpdateMedian float64   `json:"updateMedianMillis"`
}

// TestInformersAgainstACluster: a client-go informer program syncs pods,
// services, endpointslices and namespaces of a weir member holding 1,000
// Services within 2 s, and sees its updates within 100 ms (median of 5).
func TestInformersAgainstACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	weir := filepath.Join(testutil.WeirBin(t), "weir")
	c, err := cluster.Start(ctx, cluster.Options{Bin: weir, Dir: filepath.Join(dir, "cluster"), Members: 1, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := c.Members[0]
	const services = 1000
	createServices(ctx, t, m.Client, services)

	kc := filepath.Join(dir, "kubeconfig")
	out, err := exec.CommandContext(ctx, weir, "kubeconfig", "--data-dir", m.DataDir,
		"--server", "https://"+m.APIAddr, "--token-file", c.TokenFile).Output()
	if err != nil {
		t.Fatalf("weir kubeconfig: %v", err)
	}
	if err := os.WriteFile(kc, out, 0o600); err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "informers")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", prog, "github.com/weirnet/weir/tests/clientgo/informers").CombinedOutput(); err != nil {
		t.Fatalf("build the informers program: %v\n%s", err, out)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, prog, "--kubeconfig", kc, "--service", "svc-0500", "--updates", "5")
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("informers: %v\n%s", err, stderr.String())
	}
	var r result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("informers printed %q: %v", data, err)
	}
	t.Logf("synced %d services, %d namespaces in %.1f ms; updates seen after %v ms (median %.1f)",
		r.Services, r.Namespaces, r.SyncMillis, r.UpdateMillis, r.UpdateMedian)
	if r.Services < services {
		t.Errorf("the informer holds %d services, want >= %d", r.Services, services)
	}
	if r.SyncMillis > 2000 {
		t.Errorf("caches synced after %.0f ms, want <= 2000", r.SyncMillis)
	}
	if r.UpdateMedian > 100 {
		t.Errorf("updates came back after %.1f ms (median), want <= 100", r.UpdateMedian)
	}
}

// createServices creates n selector Services svc-0000... with 32 writers.
func createServices(ctx context.Context, t *testing.T, cl *cluster.Client, n int) {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	next := make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-%04d"},`+
					`"spec":{"selector":{"app":"a%d"},"ports":[{"port":80,"targetPort":8080}]}}`, i, i)
				r, err := cl.Do(ctx, "POST", "/api/v1/namespaces/default/services", []byte(body))
				if err == nil && r.Code != 201 {
					err = fmt.Errorf("create svc-%04d: %d %s", i, r.Code, r.Body)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	t.Logf("created %d services in %v", n, time.Since(start).Round(time.Millisecond))
}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuiltBin()
	os.Exit(code)
}
