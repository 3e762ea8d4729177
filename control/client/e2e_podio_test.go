package client_test

import (
	"bytes"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weirnet/weir/control/client"
)

// TestE2EPodLogExecErrors sends pods/log (typed client) and pods/exec
// (RESTClient, weir's exec stream) to the real API server: its Status
// answers come back as the client's errors, with the server's words.
func TestE2EPodLogExecErrors(t *testing.T) {
	cl := newCluster(t)
	c, ctx := cl.client, ctxT(t)
	apply(t, c, "apiVersion: v1\nkind: Pod\nmetadata: {name: pending}\nspec: {containers: [{name: web, image: busybox}, {name: side, image: busybox}]}\n",
		client.NamespaceOptions{Namespace: "default"})

	var out bytes.Buffer
	err := c.Logs(ctx, "default", "ghost", client.LogOptions{TailLines: -1}, &out)
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `pods "ghost" not found`) {
		t.Errorf("log of a missing pod: %v", err)
	}
	err = c.Logs(ctx, "", "pending", client.LogOptions{Container: "web", TailLines: 5}, &out)
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "not scheduled") {
		t.Errorf("log of an unscheduled pod: %v", err)
	}
	err = c.Logs(ctx, "default", "pending", client.LogOptions{Container: "nope", TailLines: -1}, &out)
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "container nope is not valid") {
		t.Errorf("log of a missing container: %v", err)
	}
	_, err = c.Exec(ctx, "default", "ghost", "", []string{"true"}, nil, &out, &out)
	if !apierrors.IsNotFound(err) {
		t.Errorf("exec in a missing pod: %v", err)
	}
	_, err = c.Exec(ctx, "default", "pending", "web", []string{"sh", "-c", "echo a b"}, strings.NewReader("in"), &out, &out)
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "not scheduled") {
		t.Errorf("exec in an unscheduled pod: %v", err)
	}
	if _, err := c.Exec(ctx, "default", "pending", "web", nil, nil, &out, &out); err == nil {
		t.Error("exec without a command: no error")
	}
	if out.Len() != 0 {
		t.Errorf("failed requests wrote output: %q", out.String())
	}
}
