package client_test

import (
	"fmt"
	"testing"

	"github.com/weirnet/weir/control/client"
)

// TestE2ETable asks the real server for Tables: kube-apiserver's columns,
// one row per object with its metadata, pages at one revision.
func TestE2ETable(t *testing.T) {
	cl := newCluster(t)
	c, ctx := cl.client, ctxT(t)
	for i := range 5 {
		apply(t, c, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\ndata: {a: b}\n", i), client.NamespaceOptions{Namespace: "default"})
	}
	cm, err := c.ResolveResource(ctx, "cm")
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Table(ctx, cm.GVR(), "default", "", client.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, d := range first.ColumnDefinitions {
		cols = append(cols, d.Name)
	}
	if fmt.Sprint(cols) != "[Name Data Age]" || len(first.Rows) != 3 || first.Continue == "" {
		t.Fatalf("first page: columns %v, %d rows, continue %q", cols, len(first.Rows), first.Continue)
	}
	if len(first.Rows[0].Object.Raw) == 0 || first.Rows[0].Cells[0] != "c0" || fmt.Sprint(first.Rows[0].Cells[1]) != "1" {
		t.Fatalf("first row %+v", first.Rows[0])
	}
	next, err := c.Table(ctx, cm.GVR(), "default", "", client.ListOptions{Limit: 3, Continue: first.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Rows) != 2 || next.Continue != "" || next.ResourceVersion != first.ResourceVersion {
		t.Fatalf("second page: %d rows, continue %q, revision %s (first %s)", len(next.Rows), next.Continue, next.ResourceVersion, first.ResourceVersion)
	}
	one, err := c.Table(ctx, cm.GVR(), "default", "c4", client.ListOptions{})
	if err != nil || len(one.Rows) != 1 || one.Rows[0].Cells[0] != "c4" {
		t.Fatalf("one object's table: %+v, %v", one, err)
	}
}
