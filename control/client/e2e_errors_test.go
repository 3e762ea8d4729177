package client_test

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
)

// TestE2EStatusErrors checks that the server's Status answers arrive as
// *apierrors.StatusError with the right reason and the server's message,
// printed by FormatError as kubectl prints them.
func TestE2EStatusErrors(t *testing.T) {
	cl := newCluster(t)
	c := cl.client
	ctx := ctxT(t)
	cm, _ := c.ResolveResource(ctx, "cm")
	svc, _ := c.ResolveResource(ctx, "svc")

	_, err := c.Get(ctx, cm.GVR(), "default", "missing")
	if !apierrors.IsNotFound(err) || client.FormatError(err) != `Error from server (NotFound): configmaps "missing" not found` {
		t.Errorf("get missing: %v", err)
	}

	obj := objects(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n")[0]
	created, err := c.Create(ctx, cm.GVR(), "default", obj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, cm.GVR(), "default", obj); !apierrors.IsAlreadyExists(err) {
		t.Errorf("create twice: %v, want AlreadyExists", err)
	}
	first := created.DeepCopy()
	_ = unstructured.SetNestedField(created.Object, "c", "data", "a")
	if _, err := c.Update(ctx, cm.GVR(), "default", created); err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(first.Object, "d", "data", "a")
	if _, err := c.Update(ctx, cm.GVR(), "default", first); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v, want Conflict", err)
	}

	bad := objects(t, "apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {ports: [{port: 0}]}\n")[0]
	_, err = c.Create(ctx, svc.GVR(), "default", bad)
	var se *apierrors.StatusError
	if !apierrors.IsInvalid(err) || !errors.As(err, &se) || se.ErrStatus.Details == nil || len(se.ErrStatus.Details.Causes) == 0 {
		t.Errorf("invalid service: %v, want Invalid with causes", err)
	} else if !strings.Contains(err.Error(), "Bad_Name") {
		t.Errorf("invalid service message %q does not name the object", err)
	}

	wrong, err := client.New(client.Config{Server: cl.server.URL, Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if _, err := wrong.Get(ctx, cm.GVR(), "default", "x"); !apierrors.IsUnauthorized(err) {
		t.Errorf("wrong token: %v, want Unauthorized", err)
	}
	if _, err := wrong.ResolveResource(ctx, "po"); !apierrors.IsUnauthorized(err) {
		t.Errorf("discovery with a wrong token: %v, want Unauthorized", err)
	}
}
