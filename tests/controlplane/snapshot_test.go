package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
)

// TestSnapshotSaveRestore saves a snapshot of a 3-member cluster with
// `weir snapshot save`, restores it with `weir snapshot restore` into a new
// data dir, starts a new cluster from it (a second member joins), and
// compares every object of every resource, resourceVersions included, as
// of the snapshot's revision (the controllers keep writing meanwhile, on
// both clusters).
func TestSnapshotSaveRestore(t *testing.T) {
	c := startCluster(t)
	ctx := testCtx(t, 2*time.Minute)
	src := c.Members[1].Client
	populate(t, ctx, src)
	file := filepath.Join(t.TempDir(), "weir.snapshot")
	out := runWeir(t, "snapshot", "save", file, "--server", c.Members[1].APIAddr, "--token", c.Token,
		"--certificate-authority", filepath.Join(c.Members[0].DataDir, "ca.crt"))
	m := regexp.MustCompile(`revision (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("snapshot save printed no revision: %q", out)
	}
	snapRev, _ := strconv.ParseUint(m[1], 10, 64)
	before := dumpAll(t, ctx, src, snapRev)
	mustCode(t, ctx, src, "POST", cmPath, configMap("after-save", nil), 201)
	t.Logf("saved %d objects at revision %d; restoring", len(before), snapRev)

	rc := prepareCluster(t, cluster.Options{Members: 2, NoBootstrap: true})
	r1 := rc.Members[0]
	// Its Secrets decrypt only with the source cluster's encryption config.
	runWeir(t, "snapshot", "restore", file, "--data-dir", r1.DataDir, "--name", r1.Name, "--peer", r1.PeerAddr,
		"--encryption-config", filepath.Join(c.Members[0].DataDir, "encryption-config.yaml"))
	launch(t, rc)
	for _, rm := range rc.Members {
		for _, d := range diffDumps(before, dumpAll(t, ctx, rm.Client, snapRev)) {
			t.Errorf("restored cluster, read through %s: %s", rm.Name, d)
		}
	}
	checkRestoredCluster(t, ctx, rc.Members[1].Client, snapRev)
}

// checkRestoredCluster: revisions continue after the snapshot's, writes
// after the save are absent, and allocations (ClusterIPs) survived.
func checkRestoredCluster(t *testing.T, ctx context.Context, c *cluster.Client, snapRev uint64) {
	t.Helper()
	mustCode(t, ctx, c, "GET", cmPath+"/after-save", nil, 404)
	r := mustCode(t, ctx, c, "POST", cmPath, configMap("after-restore", nil), 201)
	if meta, _ := cluster.MetaOf(r.Body); meta.Revision() <= snapRev {
		t.Errorf("first write after restore has revision %d, want > snapshot revision %d", meta.Revision(), snapRev)
	}
	dup := service("dup-ip", "10.96.100.100")
	if r, err := c.Do(ctx, "POST", "/api/v1/namespaces/snap/services", dup); err != nil || r.Code == 201 {
		t.Errorf("a second Service with ClusterIP 10.96.100.100 after restore: %v %d %s (want it refused: the allocation is in the snapshot)", err, r.Code, r.Body)
	}
}

// populate creates objects of several kinds, updates some and deletes
// some, so that the snapshot holds a history and not just creates.
func populate(t *testing.T, ctx context.Context, c *cluster.Client) {
	t.Helper()
	mustCode(t, ctx, c, "POST", "/api/v1/namespaces", []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"snap","labels":{"team":"a"}}}`), 201)
	for i := 0; i < 40; i++ {
		mustCode(t, ctx, c, "POST", cmPath, configMap(fmt.Sprintf("cm-%02d", i), map[string]string{"i": strconv.Itoa(i)}), 201)
	}
	for i := 0; i < 10; i++ {
		mustCode(t, ctx, c, "PUT", fmt.Sprintf("%s/cm-%02d", cmPath, i), configMap(fmt.Sprintf("cm-%02d", i), map[string]string{"i": "updated"}), 200)
	}
	for i := 10; i < 15; i++ {
		mustCode(t, ctx, c, "DELETE", fmt.Sprintf("%s/cm-%02d", cmPath, i), nil, 200)
	}
	for i := 0; i < 5; i++ {
		mustCode(t, ctx, c, "POST", "/api/v1/namespaces/snap/secrets",
			[]byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s%d"},"data":{"k":"c2VjcmV0"}}`, i)), 201)
	}
	mustCode(t, ctx, c, "POST", "/api/v1/namespaces/snap/services", service("fixed-ip", "10.96.100.100"), 201)
	mustCode(t, ctx, c, "POST", "/api/v1/namespaces/snap/services", service("auto-ip", ""), 201)
	for i := 0; i < 3; i++ {
		mustCode(t, ctx, c, "POST", "/api/v1/namespaces/snap/pods", []byte(fmt.Sprintf(
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80}]}]}}`, i)), 201)
	}
	mustCode(t, ctx, c, "POST", "/apis/apps/v1/namespaces/snap/deployments", []byte(
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},`+
			`"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}`), 201)
	mustCode(t, ctx, c, "POST", "/api/v1/namespaces/snap/serviceaccounts", []byte(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"robot"}}`), 201)
}

func service(name, ip string) []byte {
	return []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q},"spec":{"clusterIP":%q,"selector":{"app":"web"},"ports":[{"port":80,"protocol":"TCP"}]}}`, name, ip))
}

func mustCode(t *testing.T, ctx context.Context, c *cluster.Client, method, path string, body []byte, code int) cluster.Response {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	r, err := c.Do(rctx, method, path, body)
	if err != nil || r.Code != code {
		t.Fatalf("%s %s: %v %d %s (want %d)", method, path, err, r.Code, bytes.TrimSpace(r.Body), code)
	}
	return r
}

// runWeir runs the weir CLI and returns its output.
func runWeir(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(weirBin(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("weir %v: %v\n%s", args, err, out)
	}
	return string(out)
}
