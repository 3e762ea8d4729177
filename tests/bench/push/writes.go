package push

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

const slicePath = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/"

// sliceJSON is EndpointSlice name of Service "bench" with one endpoint per
// change number (so that every write changes the object).
func sliceJSON(name string, change int) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
		"metadata":    map[string]any{"name": name, "namespace": "default", "labels": map[string]any{"kubernetes.io/service-name": "bench"}},
		"addressType": "IPv4",
		"ports":       []any{map[string]any{"name": "http", "port": 8080, "protocol": "TCP"}},
		"endpoints": []any{map[string]any{"addresses": []any{fmt.Sprintf("10.244.%d.%d", change/250%256, change%250+2)},
			"conditions": map[string]any{"ready": true}}},
	})
	return b
}

// put writes slice name (create or replace) through c and returns the
// revision of the write.
// A 503 (no leader during an election) is retried like a client would.
func put(ctx context.Context, c *cluster.Client, name string, change int) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var r cluster.Response
	var err error
	for attempt := 0; ; attempt++ {
		r, err = c.Do(ctx, "PUT", slicePath+name, sliceJSON(name, change))
		if err != nil {
			return 0, fmt.Errorf("PUT endpointslice %s: %w", name, err)
		}
		if r.Code != 503 || attempt == 50 {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if r.Code != 200 && r.Code != 201 {
		return 0, fmt.Errorf("PUT endpointslice %s: %d %s", name, r.Code, r.Body)
	}
	m, err := cluster.MetaOf(r.Body)
	if err != nil {
		return 0, err
	}
	return m.Revision(), nil
}

// burst writes size changes with writers concurrent clients over 50
// slices, spread over the members; it returns the highest revision.
func burst(ctx context.Context, cp *controlPlane, size, writers, base int) (uint64, error) {
	var mu sync.Mutex
	var maxRev uint64
	var firstErr error
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rev, err := put(ctx, cp.members[i%len(cp.members)].client, fmt.Sprintf("burst-%02d", i%50), base+i)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				maxRev = max(maxRev, rev)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < size; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return maxRev, firstErr
}

// create makes slice name (an existing one is fine).
func create(ctx context.Context, c *cluster.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	r, err := c.Do(ctx, "POST", slicePath[:len(slicePath)-1], sliceJSON(name, 0))
	if err != nil {
		return fmt.Errorf("create endpointslice %s: %w", name, err)
	}
	if r.Code != 201 && r.Code != 200 && r.Code != 409 {
		return fmt.Errorf("create endpointslice %s: %d %s", name, r.Code, r.Body)
	}
	return nil
}
