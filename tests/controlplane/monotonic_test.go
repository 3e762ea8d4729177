package controlplane

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// TestReadsMonotonicAcrossMembers: while a writer counts a ConfigMap up
// through the leader, a reader alternates linearizable reads between the
// two followers. A read must never return an older value than the read
// that completed before it, whichever member serves it (a follower may
// apply an entry before the leader does, so a read index taken from the
// leader's applied index instead of its commit index fails this).
func TestReadsMonotonicAcrossMembers(t *testing.T) {
	c := startCluster(t)
	ctx := testCtx(t, 2*time.Minute)
	mustCode(t, ctx, c.Members[0].Client, "POST", cmPath, configMap("counter", map[string]string{"v": "0"}), 201)
	li, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	followers := []*cluster.Member{c.Members[(li+1)%3], c.Members[(li+2)%3]}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; wctx.Err() == nil; i++ {
			_, _ = c.Members[li].Client.Do(wctx, "PUT", cmPath+"/counter", configMap("counter", map[string]string{"v": strconv.Itoa(i)}))
		}
	}()
	defer func() { stop(); wg.Wait() }()
	var pairs, back int
	prev := -1
	for i := 0; i < 3000; i++ {
		m := followers[i%2]
		v, rv, ok := readCounter(ctx, m)
		if !ok {
			prev = -1 // an election under load; start a new chain
			continue
		}
		if prev >= 0 {
			pairs++
			if v < prev {
				back++
				if back <= 5 {
					t.Errorf("read %d through %s returned v=%d (resourceVersion %s) after the previous read returned v=%d", i, m.Name, v, rv, prev)
				}
			}
		}
		prev = v
	}
	t.Logf("%d consecutive read pairs across the two followers, %d went back in time", pairs, back)
	if pairs < 1000 {
		t.Errorf("only %d read pairs completed", pairs)
	}
}

func readCounter(ctx context.Context, m *cluster.Member) (int, string, bool) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := m.Client.Do(rctx, "GET", cmPath+"/counter", nil)
	if err != nil || r.Code != 200 {
		return 0, "", false
	}
	var cm struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if json.Unmarshal(r.Body, &cm) != nil {
		return 0, "", false
	}
	v, err := strconv.Atoi(cm.Data["v"])
	return v, cm.Metadata.ResourceVersion, err == nil
}
