package controlplane

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/controlplane/cluster"
	"github.com/weirnet/weir/tests/testutil"
)

// TestPeerWireEncrypted puts a recording TCP relay in front of each of two
// `weir server` processes' peer ports (each advertises its relay, and m2
// joins through m1's): the join, raft replication, snapshots of state and
// forwarded requests all cross the relays. The capture holds no API token,
// no Secret value (written through the API), no byte of the cluster CA's
// private key and no cluster secret; and no data file of either member
// holds the Secret's value.
func TestPeerWireEncrypted(t *testing.T) {
	c := prepareCluster(t, cluster.Options{Members: 2})
	relays := make([]*testutil.Relay, 2)
	for i, m := range c.Members {
		relays[i] = testutil.NewRelay(t, m.PeerAddr)
		m.AddArgs("--advertise-peer", relays[i].Addr())
	}
	c.Members[1].AddArgs("--join", relays[0].Addr())
	launch(t, c)
	ctx := testCtx(t, time.Minute)

	marker := "wire-secret-value-7f3a9c"
	body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"wire"},"data":{"k":%q},"stringData":{"p":%q}}`,
		base64.StdEncoding.EncodeToString([]byte(marker)), marker+"-string")
	mustCode(t, ctx, c.Members[1].Client, "POST", "/api/v1/namespaces/default/secrets", []byte(body), 201)
	for _, m := range c.Members {
		r := mustCode(t, ctx, m.Client, "GET", "/api/v1/namespaces/default/secrets/wire", nil, 200)
		if !strings.Contains(string(r.Body), base64.StdEncoding.EncodeToString([]byte(marker))) {
			t.Fatalf("%s reads the Secret as %s", m.Name, r.Body)
		}
	}
	time.Sleep(300 * time.Millisecond)

	wire := append(relays[0].Captured(), relays[1].Captured()...)
	if !bytes.Contains(wire, []byte("weir-join/1")) || !bytes.Contains(wire, []byte("weir-raft/1")) {
		t.Fatalf("the relays saw no join or raft connection (%d bytes)", len(wire))
	}
	keyPEM, err := os.ReadFile(filepath.Join(c.Members[0].DataDir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(keyPEM)
	if blk == nil {
		t.Fatal("ca.key is not PEM")
	}
	secret, _ := os.ReadFile(c.SecretFile)
	needles := map[string][]byte{
		"Secret value":            []byte(marker),
		"Secret value (base64)":   []byte(base64.StdEncoding.EncodeToString([]byte(marker))),
		"API token":               []byte(c.Token),
		"cluster secret":          bytes.TrimSpace(secret),
		"CA key (PEM)":            []byte("PRIVATE KEY"),
		"CA key (DER, 16 bytes)":  blk.Bytes[len(blk.Bytes)/2 : len(blk.Bytes)/2+16],
		"CA key (base64 in JSON)": []byte(base64.StdEncoding.EncodeToString(blk.Bytes)[20:44]),
	}
	for what, n := range needles {
		if bytes.Contains(wire, n) {
			t.Errorf("the peer wire carries the %s in clear", what)
		}
	}
	t.Logf("relays captured %d bytes", len(wire))

	// At rest: no file of either member's data dir holds the value.
	for _, m := range c.Members {
		err := filepath.WalkDir(m.DataDir, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, needles["Secret value"]) || bytes.Contains(b, needles["Secret value (base64)"]) {
				t.Errorf("%s holds the Secret value in clear", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
