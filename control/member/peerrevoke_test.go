package member

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/store"
)

// TestRevokedMemberRefusedByPeers: on three members, revoking every
// member certificate of m3 through the API (`weir certs revoke --member
// m3`) makes m1 and m2 refuse m3's certificate on their peer ports; the
// two others keep committing writes.
func TestRevokedMemberRefusedByPeers(t *testing.T) {
	m1 := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true})
	secret := mustRead(t, filepath.Join(m1.cfg.DataDir, "cluster-secret"))
	var ms []*Member
	for _, name := range []string{"m2", "m3"} {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "cluster-secret"), secret, 0o600); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, startMember(t, Config{Name: name, DataDir: d, Join: []string{m1.Store.PeerAddr()}}))
	}
	m2, m3 := ms[0], ms[1]
	cert, err := tls.LoadX509KeyPair(filepath.Join(m3.cfg.DataDir, "peer.crt"), filepath.Join(m3.cfg.DataDir, "peer.key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Member{m1, m2} {
		if err := peerHandshake(m, cert); err != nil {
			t.Fatalf("%s refused m3's certificate before the revocation: %v", m.cfg.Name, err)
		}
	}
	es := revokeVia(t, m1, revoke.Request{User: store.MemberCNPrefix + "m3", Reason: "decommissioned"})
	if len(es) != 1 || es[0].User != "weir:member:m3" {
		t.Fatalf("entries %+v", es)
	}
	for _, m := range []*Member{m1, m2} {
		var err error
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if err = peerHandshake(m, cert); err != nil {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), "tls: bad certificate") {
			t.Fatalf("%s with m3's revoked certificate: %v", m.cfg.Name, err)
		}
		t.Logf("%s: %v", m.cfg.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := store.Create(ctx, m2.Store, store.Key{Resource: "secrets", Namespace: "default", Name: "after-revoke"}, []byte("v")); err != nil {
		t.Fatalf("write through m2 after revoking m3: %v", err)
	}
}
