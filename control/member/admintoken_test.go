package member

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/controllers/kube"
	"github.com/weirnet/weir/control/store"
)

// TestLeaderClientFollowsTokenRotation: the leader's own admin client,
// made before a token rotation, keeps working after it (it reads the
// token at each request), while a client holding the old token is a 401;
// a cluster of one member can rotate (its member certificate exists).
func TestLeaderClientFollowsTokenRotation(t *testing.T) {
	dir := t.TempDir()
	m := startMember(t, Config{Name: "m1", DataDir: dir, Bootstrap: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	leader, err := kube.NewClientset(m.leaderRESTConfig(), "test")
	if err != nil {
		t.Fatal(err)
	}
	stale, err := kube.NewClientset(&rest.Config{Host: m.APIURL(), BearerToken: m.Store.Token(),
		TLSClientConfig: rest.TLSClientConfig{CAData: m.CACert()}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	// A member alone has its member certificate at once (for the command).
	if _, err := store.RotateTokenAt(ctx, dir, m.Store.PeerAddr()); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("the leader's client after the rotation: %v", err)
	}
	if _, err := stale.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("a client with the old token: %v, want 401", err)
	}
}
