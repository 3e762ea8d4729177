package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/control/api"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

// startMembers starts three store members (m1 bootstraps, the others
// join) with an API server each.
func startMembers(t *testing.T) []*env {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap = true
	m1 := storetest.Open(t, cfg)
	envs := []*env{newEnvOn(t, m1, smallCIDR)}
	for _, name := range []string{"m2", "m3"} {
		c := storetest.Config(name, t.TempDir())
		c.Join = []string{m1.PeerAddr()}
		envs = append(envs, newEnvOn(t, storetest.Open(t, c), smallCIDR))
	}
	deadline := time.Now().Add(30 * time.Second)
	for !allVoters(m1, 3) {
		if time.Now().After(deadline) {
			t.Fatal("the cluster did not reach 3 voters in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return envs
}

func smallCIDR(c *api.Config) { c.ServiceCIDR = "10.100.0.0/25"; c.NodePortRange = "30000-30099" }

func allVoters(s *store.Store, n int) bool {
	ms, err := s.Members(context.Background())
	voters := 0
	for _, m := range ms {
		if m.Voter {
			voters++
		}
	}
	return err == nil && voters == n
}

// TestAllocationAcrossMembers creates services through all three members
// at once: every ClusterIP and NodePort is distinct, and a watch on one
// member sees the writes made through the others.
func TestAllocationAcrossMembers(t *testing.T) {
	envs := startMembers(t)
	w := envs[2].openWatch(svcPath + "?watch=true&resourceVersion=1")
	const n = 45
	ips, ports := make([]string, n), make([]float64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("svc-%d", i)
			r := retryUnavailable(func() *resp { return envs[i%3].req("POST", svcPath, svcJSON(name, "NodePort", "", 0)) })
			if r.code == http.StatusConflict { // a retry of a create that did land
				r = retryUnavailable(func() *resp { return envs[i%3].req("GET", svcPath+"/"+name, nil) })
			}
			if r.code != http.StatusCreated && r.code != http.StatusOK {
				t.Errorf("create %s on member %d: HTTP %d %s", name, i%3+1, r.code, r.body)
				return
			}
			o := r.obj(t)
			ips[i] = str(o, "spec", "clusterIP")
			ports[i], _ = path(o, "spec", "ports").([]any)[0].(map[string]any)["nodePort"].(float64)
		})
	}
	wg.Wait()
	seenIP, seenPort := map[string]int{}, map[float64]int{}
	for i := range n {
		if j, dup := seenIP[ips[i]]; dup {
			t.Errorf("svc-%d and svc-%d share clusterIP %s", j, i, ips[i])
		}
		if j, dup := seenPort[ports[i]]; dup {
			t.Errorf("svc-%d and svc-%d share nodePort %v", j, i, ports[i])
		}
		seenIP[ips[i]], seenPort[ports[i]] = i, i
	}
	added := map[string]bool{}
	for len(added) < n {
		ev := w.next()
		if ev.Type != "ADDED" || added[ev.name()] {
			t.Fatalf("watch on member 3: unexpected %s %s", ev.Type, ev.name())
		}
		added[ev.name()] = true
	}
	// any member reads what any other wrote (linearizable reads)
	for i := range n {
		got := retryUnavailable(func() *resp {
			return envs[(i+1)%3].req("GET", fmt.Sprintf("%s/svc-%d", svcPath, i), nil)
		}).must(t, 200).obj(t)
		if str(got, "spec", "clusterIP") != ips[i] {
			t.Errorf("svc-%d read on another member: clusterIP %s, created with %s", i, str(got, "spec", "clusterIP"), ips[i])
		}
	}
}

// retryUnavailable repeats a request answered 503 (an election under load),
// as clients do after Retry-After, for up to 20s.
func retryUnavailable(do func() *resp) *resp {
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := do()
		if r.code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return r
		}
		time.Sleep(200 * time.Millisecond)
	}
}
