package store

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// Leader elections during a cell are the growth of the raft term: a
// member stepping down under load shows up as write stalls.

// weirTerm is the highest raft term any member reports on /metrics.
func weirTerm(ctx context.Context, c *cluster.Cluster) uint64 {
	var max uint64
	for _, m := range c.Members {
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, err := m.Client.Do(qctx, "GET", "/metrics", nil)
		cancel()
		if err != nil || r.Code != 200 {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(r.Body))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "weir_store_raft_term "); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && uint64(f) > max {
					max = uint64(f)
				}
			}
		}
	}
	return max
}

// etcdTerm is the highest raft term any etcd member reports.
func etcdTerm(ctx context.Context, e *etcdCluster) uint64 {
	var max uint64
	for _, ep := range e.endpoints {
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := e.client.Status(qctx, ep)
		cancel()
		if err == nil && st.RaftTerm > max {
			max = st.RaftTerm
		}
	}
	return max
}
