package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/client"
)

// serverColumns asks the API server itself (not the CLI) for its Table of
// pods and returns the column names kubectl shows: the priority-0 ones,
// and with wide all of them, upper-cased.
func serverColumns(t *testing.T, e *cliEnv, wide bool) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/v1/namespaces/default/pods", nil)
	req.Header.Set("Accept", client.TableAccept)
	req.Header.Set("Authorization", "Bearer "+cliToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tb metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&tb); err != nil || tb.Kind != "Table" {
		t.Fatalf("the server's pod table: kind %q, %v", tb.Kind, err)
	}
	var cols []string
	for _, c := range tb.ColumnDefinitions {
		if c.Priority == 0 || wide {
			cols = append(cols, strings.ToUpper(c.Name))
		}
	}
	return cols
}

// header splits a printed header line into column names (names may hold
// one space, e.g. NOMINATED NODE; columns are apart by three or more).
func header(out string) []string {
	line, _, _ := strings.Cut(out, "\n")
	return regexp.MustCompile(` {3,}`).Split(strings.TrimSpace(line), -1)
}

// TestCLIGetPodsPrintsServerColumns checks that `weir get pods` prints
// the server's Table: kube-apiserver's pod columns (and the wide ones
// with -o wide, NAMESPACE first with -A), the server's cells, and no
// client-side columns.
func TestCLIGetPodsPrintsServerColumns(t *testing.T) {
	e := newCLIEnv(t)
	e.mustRun(t, applyCmd, "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: x}, {name: d, image: busybox}]}\n", "-f", "-")

	out := e.mustRun(t, getCmd, "", "pods")
	want := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"} // kube-apiserver's pod columns
	if got := header(out); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("get pods header %q, want kube-apiserver's %q", got, want)
	}
	if got, srv := header(out), serverColumns(t, e, false); strings.Join(got, "|") != strings.Join(srv, "|") {
		t.Errorf("get pods header %q, the server's columns %q", got, srv)
	}
	if !regexp.MustCompile(`(?m)^web +0/2 +Pending +0 +\S+$`).MatchString(out) {
		t.Errorf("get pods row:\n%s", out)
	}

	out = e.mustRun(t, getCmd, "", "pods", "-o", "wide")
	want = append(want, "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	if got := header(out); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("get pods -o wide header %q, want %q", got, want)
	}
	if got, srv := header(out), serverColumns(t, e, true); strings.Join(got, "|") != strings.Join(srv, "|") {
		t.Errorf("get pods -o wide header %q, the server's columns %q", got, srv)
	}

	out = e.mustRun(t, getCmd, "", "pods", "-A")
	if !regexp.MustCompile(`^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE\ndefault +web +0/2 +Pending `).MatchString(out) {
		t.Errorf("get pods -A:\n%s", out)
	}
	out = e.mustRun(t, getCmd, "", "pods", "web", "--no-headers")
	if !regexp.MustCompile(`^web +0/2 +Pending +0 +\S+\n$`).MatchString(out) {
		t.Errorf("get pods web --no-headers:\n%s", out)
	}

	// -o yaml hides managedFields, as kubectl does, unless asked.
	if out := e.mustRun(t, getCmd, "", "pods", "web", "-o", "yaml"); strings.Contains(out, "managedFields") || !strings.Contains(out, "name: web") {
		t.Errorf("get -o yaml shows managedFields or not the pod:\n%s", out)
	}
	if out := e.mustRun(t, getCmd, "", "pods", "web", "-o", "json", "--show-managed-fields"); !strings.Contains(out, `"manager": "weir"`) {
		t.Errorf("get -o json --show-managed-fields lacks weir's apply entry:\n%s", out)
	}
}

// TestCLIGetChunks lists in pages (--chunk-size, kubectl's): one header,
// every row once, the same text as one answer.
func TestCLIGetChunks(t *testing.T) {
	e := newCLIEnv(t)
	for i := range 7 {
		e.mustRun(t, applyCmd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c"+string(rune('0'+i))+"}\n", "-f", "-")
	}
	whole := e.mustRun(t, getCmd, "", "cm", "--chunk-size", "0")
	paged := e.mustRun(t, getCmd, "", "cm", "--chunk-size", "3")
	if strings.Count(whole, "\nc") != 7 || paged != whole {
		t.Errorf("paged:\n%s\nwhole:\n%s", paged, whole)
	}
	if _, _, err := e.run(t, getCmd, "", "cm", "--chunk-size", "-1"); err == nil {
		t.Error("negative --chunk-size: no error")
	}
}
