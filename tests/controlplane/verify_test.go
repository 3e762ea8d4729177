package controlplane

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// stored is one ConfigMap as a member lists it.
type stored struct {
	name string
	rv   uint64
}

// rootCAConfigMap is the ConfigMap the controllers publish in every
// namespace; the tests' checks are about their own ConfigMaps only.
const rootCAConfigMap = "kube-root-ca.crt"

// listConfigMaps lists namespace default's ConfigMaps through m (a
// linearizable read), retrying for up to 30 s while m is unavailable.
func listConfigMaps(ctx context.Context, m *cluster.Member) (map[string]uint64, error) {
	var last error
	for i := 0; i < 150 && ctx.Err() == nil; i++ {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := m.Client.Do(rctx, "GET", cmPath, nil)
		cancel()
		if err == nil && r.Code == 200 {
			l, err := cluster.DecodeList(r.Body)
			if err != nil {
				return nil, err
			}
			out := map[string]uint64{}
			for _, it := range l.Items {
				meta, err := cluster.MetaOf(it)
				if err != nil {
					return nil, err
				}
				if meta.Name == rootCAConfigMap {
					continue // the controllers' ConfigMap, not the test's
				}
				out[meta.Name] = meta.Revision()
			}
			return out, nil
		}
		last = fmt.Errorf("%v %d %s", err, r.Code, r.Body)
		time.Sleep(200 * time.Millisecond)
	}
	return nil, fmt.Errorf("list configmaps on %s: %v", m.Name, last)
}

// verifyWrites checks the final state on every member against the writes:
// the members agree; every acknowledged create is there at its revision;
// nothing appears that was not written; revisions are unique, strictly
// increase per writer and respect real-time order. It returns the objects
// sorted by revision.
func verifyWrites(t *testing.T, ctx context.Context, c *cluster.Cluster, writes []write, isTest func(string) bool) []stored {
	t.Helper()
	var ref map[string]uint64
	for _, m := range c.Members {
		got, err := listConfigMaps(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = got
		} else if d := diffMaps(ref, got); d != "" {
			t.Errorf("%s's list differs from %s's: %s", m.Name, c.Members[0].Name, d)
		}
	}
	byName := map[string]write{}
	var counts [3]int
	for _, w := range writes {
		byName[w.name] = w
		counts[w.outcome]++
		if w.outcome == unknown {
			continue
		}
		if rv, ok := ref[w.name]; !ok {
			t.Errorf("acknowledged write %s (revision %d, %d attempts) is missing", w.name, w.rv, w.attempts)
		} else if rv != w.rv {
			t.Errorf("acknowledged write %s: revision %d, but the store has %d", w.name, w.rv, rv)
		}
	}
	t.Logf("writes: %d acknowledged, %d known through a retry's AlreadyExists, %d unknown; %d objects stored",
		counts[acked], counts[landed], counts[unknown], len(ref))
	var all []stored
	byRev := map[uint64]string{}
	for name, rv := range ref {
		if !isTest(name) {
			continue
		}
		if _, ok := byName[name]; !ok {
			t.Errorf("object %s (revision %d) was never written", name, rv)
		}
		if other, dup := byRev[rv]; dup {
			t.Errorf("revision %d is shared by %s and %s", rv, name, other)
		}
		byRev[rv] = name
		all = append(all, stored{name, rv})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].rv < all[j].rv })
	checkOrder(t, writes)
	return all
}

// checkOrder: per writer, later creates have higher revisions; globally, a
// create acknowledged before another was sent has the lower revision.
func checkOrder(t *testing.T, writes []write) {
	t.Helper()
	last := map[int]write{}
	var known []write
	for _, w := range writes {
		if w.outcome == unknown {
			continue
		}
		if p, ok := last[w.writer]; ok && p.seq < w.seq && p.rv >= w.rv {
			t.Errorf("writer %d: %s got revision %d after %s got %d", w.writer, w.name, w.rv, p.name, p.rv)
		}
		last[w.writer] = w
		known = append(known, w)
	}
	sort.Slice(known, func(i, j int) bool { return known[i].end.Before(known[j].end) })
	prefixMax := make([]uint64, len(known))
	for i, w := range known {
		prefixMax[i] = w.rv
		if i > 0 && prefixMax[i-1] > w.rv {
			prefixMax[i] = prefixMax[i-1]
		}
	}
	bad := 0
	for _, w := range known {
		// writes acknowledged strictly before w was sent
		n := sort.Search(len(known), func(i int) bool { return !known[i].end.Before(w.start) })
		if n > 0 && prefixMax[n-1] >= w.rv {
			bad++
			if bad <= 5 {
				t.Errorf("real-time order: %s (revision %d) was sent after a write with revision %d was acknowledged", w.name, w.rv, prefixMax[n-1])
			}
		}
	}
}

func diffMaps(a, b map[string]uint64) string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, fmt.Sprintf("%s missing", k))
		} else if v != w {
			d = append(d, fmt.Sprintf("%s at %d vs %d", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("extra %s", k))
		}
	}
	sort.Strings(d)
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("... (%d differences)", len(d)))
	}
	return strings.Join(d, "; ")
}
