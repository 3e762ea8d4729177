package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// dumpAll lists every object of every listable resource the server's
// discovery names, keyed "PATH NAMESPACE/NAME", as decoded JSON.
// dumpAll lists every object of every served resource; at a non-zero rev,
// exactly as of that revision (resourceVersionMatch=Exact).
func dumpAll(t *testing.T, ctx context.Context, c *cluster.Client, rev uint64) map[string]any {
	t.Helper()
	query := ""
	if rev != 0 {
		query = fmt.Sprintf("?resourceVersion=%d&resourceVersionMatch=Exact", rev)
	}
	out := map[string]any{}
	for _, base := range discoverVersions(t, ctx, c) {
		var rl metav1.APIResourceList
		getJSON(t, ctx, c, base, &rl)
		for _, r := range rl.APIResources {
			if strings.Contains(r.Name, "/") || !contains(r.Verbs, "list") {
				continue
			}
			var l struct {
				Items []json.RawMessage `json:"items"`
			}
			getJSON(t, ctx, c, base+"/"+r.Name+query, &l)
			for _, it := range l.Items {
				meta, err := cluster.MetaOf(it)
				if err != nil {
					t.Fatal(err)
				}
				var v any
				if err := json.Unmarshal(it, &v); err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s/%s %s/%s", base, r.Name, meta.Namespace, meta.Name)] = v
			}
		}
	}
	return out
}

// discoverVersions is /api/v1 and /apis/GROUP/VERSION for every group's
// versions.
func discoverVersions(t *testing.T, ctx context.Context, c *cluster.Client) []string {
	t.Helper()
	var core metav1.APIVersions
	getJSON(t, ctx, c, "/api", &core)
	var out []string
	for _, v := range core.Versions {
		out = append(out, "/api/"+v)
	}
	var groups metav1.APIGroupList
	getJSON(t, ctx, c, "/apis", &groups)
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			out = append(out, "/apis/"+v.GroupVersion)
		}
	}
	if len(out) < 2 {
		t.Fatalf("discovery names only %v", out)
	}
	return out
}

func getJSON(t *testing.T, ctx context.Context, c *cluster.Client, path string, v any) {
	t.Helper()
	r, err := c.Do(ctx, "GET", path, nil)
	if err != nil || r.Code != 200 {
		t.Fatalf("GET %s: %v %d %s", path, err, r.Code, r.Body)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// diffDumps names the objects that differ between two dumps.
func diffDumps(want, got map[string]any) []string {
	var d []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			d = append(d, "missing "+k)
		case !reflect.DeepEqual(w, g):
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			d = append(d, fmt.Sprintf("%s differs:\n  want %s\n  got  %s", k, wj, gj))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d = append(d, "unexpected "+k)
		}
	}
	sort.Strings(d)
	return d
}
