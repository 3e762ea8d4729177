package client_test

import (
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/store/storetest"
)

// TestE2EWatchGone watches from a revision the store no longer keeps
// history for and expects a 410 Gone the caller can act on (relist).
func TestE2EWatchGone(t *testing.T) {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap = true
	cfg.HistoryRevisions = 5
	c := newClusterOn(t, storetest.Open(t, cfg)).client
	ctx := ctxT(t)
	for i := range 20 {
		apply(t, c, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\n", i), client.NamespaceOptions{Namespace: "default"})
	}
	res, _ := c.ResolveResource(ctx, "cm")
	w, err := c.Watch(ctx, res.GVR(), "default", client.ListOptions{ResourceVersion: "1"})
	if err == nil {
		defer w.Close()
		_, err = w.Next()
	}
	if !apierrors.IsGone(err) && !apierrors.IsResourceExpired(err) {
		t.Fatalf("watch from revision 1 with 5 revisions of history: %v, want 410 Gone", err)
	}
}
