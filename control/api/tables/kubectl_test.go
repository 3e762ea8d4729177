package tables

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// tableServer answers kubectl's discovery and list requests for the
// fixtures: each list as the Table Convert makes of it, when kubectl asks
// for a Table (it always does for `get`).
func tableServer(t *testing.T, fx []fixture) *httptest.Server {
	t.Helper()
	groups := map[string][]fixture{} // "group/version" (or "v1") -> resources
	lists := map[string]runtime.Object{}
	for _, f := range fx {
		gv := f.version
		if f.group != "" {
			gv = f.group + "/" + f.version
		}
		groups[gv] = append(groups[gv], f)
		lists[f.apiPath()] = f.list
		if f.namespaced { // kubectl get --all-namespaces
			lists[strings.Replace(f.apiPath(), "/namespaces/default/", "/", 1)] = f.list
		}
		items, err := meta.ExtractList(f.list) // kubectl get KIND NAME
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			m, err := meta.Accessor(item)
			if err != nil {
				t.Fatal(err)
			}
			lists[f.apiPath()+"/"+m.GetName()] = item
		}
	}
	var mu sync.Mutex
	var unexpected []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(unexpected) > 0 {
			t.Errorf("requests not answered: %v", unexpected)
		}
	})
	reply := func(w http.ResponseWriter, v interface{}) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(v); err != nil {
			t.Errorf("encode: %v", err)
		}
	}
	resources := func(gv string) *metav1.APIResourceList {
		l := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
		for _, f := range groups[gv] {
			l.APIResources = append(l.APIResources, metav1.APIResource{Name: f.resource, Namespaced: f.namespaced, Kind: f.kind, Verbs: metav1.Verbs{"get", "list"}})
		}
		return l
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/version":
			reply(w, map[string]string{"major": "1", "minor": "37", "gitVersion": "v1.37.2"})
		case p == "/api":
			reply(w, &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
				ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host}}})
		case p == "/apis":
			l := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
			var names []string
			for gv := range groups {
				if gv != "v1" {
					names = append(names, gv)
				}
			}
			sort.Strings(names)
			for _, gv := range names {
				g, v, _ := strings.Cut(gv, "/")
				d := metav1.GroupVersionForDiscovery{GroupVersion: gv, Version: v}
				l.Groups = append(l.Groups, metav1.APIGroup{Name: g, Versions: []metav1.GroupVersionForDiscovery{d}, PreferredVersion: d})
			}
			reply(w, l)
		case p == "/api/v1":
			reply(w, resources("v1"))
		case strings.HasPrefix(p, "/apis/") && strings.Count(p, "/") == 3:
			gv := strings.TrimPrefix(p, "/apis/")
			if _, ok := groups[gv]; !ok {
				http.NotFound(w, r)
				return
			}
			reply(w, resources(gv))
		case lists[p] != nil:
			if !strings.Contains(r.Header.Get("Accept"), "as=Table") {
				t.Errorf("%s: kubectl did not ask for a Table: Accept %q", p, r.Header.Get("Accept"))
			}
			table, err := Convert(lists[p], Options{Now: now})
			if err != nil {
				t.Errorf("%s: %v", p, err)
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			reply(w, table)
		default:
			mu.Lock()
			unexpected = append(unexpected, r.Method+" "+r.URL.String())
			mu.Unlock()
			http.NotFound(w, r)
		}
	}))
}

// TestKubectlPrintsTables runs the real kubectl against Tables made by
// Convert: what it prints, plain and -o wide, must be the golden text, so
// kubectl understands the Tables and the golden files show what kubectl
// users see.
func TestKubectlPrintsTables(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	fx := fixtures()
	srv := tableServer(t, fx)
	defer srv.Close()
	home := t.TempDir()
	// kubectlAt runs kubectl against the server at url and returns its
	// stdout and stderr.
	kubectlAt := func(url string, args ...string) (string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args = append([]string{"--server", url, "--cache-dir", filepath.Join(home, "cache"), "--request-timeout", "10s", "-n", "default"}, args...)
		cmd := exec.CommandContext(ctx, kubectl, args...)
		cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+filepath.Join(home, "none"))
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	run := func(args ...string) string {
		t.Helper()
		out, _ := kubectlAt(srv.URL, args...)
		return out
	}
	for _, f := range fx {
		t.Run(f.resource, func(t *testing.T) {
			got := "$ kubectl get " + f.resource + "\n" + run("get", f.resource) + "\n" +
				"$ kubectl get " + f.resource + " -o wide\n" + run("get", f.resource, "-o", "wide")
			want, err := os.ReadFile(filepath.Join("testdata", f.resource+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("kubectl printed\n%s\nwant (testdata/%s.txt)\n%s", got, f.resource, want)
			}
		})
	}
	// One object: its own Table.
	if got := run("get", "pod", "crash-0", "--no-headers"); got != "crash-0   0/1   CrashLoopBackOff   12 (90s ago)   40m\n" {
		t.Errorf("kubectl get pod crash-0 printed %q", got)
	}
	if got := run("get", "node", "node-b", "-o", "wide"); !strings.Contains(got, "INTERNAL-IP") || !strings.Contains(got, "NotReady,SchedulingDisabled") {
		t.Errorf("kubectl get node node-b -o wide printed %q", got)
	}
	// Empty lists, with a printer ("rows": []) and without ("rows": null).
	empty := tableServer(t, []fixture{
		{"", "v1", "pods", "Pod", true, &corev1.PodList{}},
		{"rbac.authorization.k8s.io", "v1", "roles", "Role", true, &rbacv1.RoleList{}},
	})
	defer empty.Close()
	for _, res := range []string{"pods", "roles"} {
		out, errOut := kubectlAt(empty.URL, "get", res)
		if out != "" || errOut != "No resources found in default namespace.\n" {
			t.Errorf("kubectl get %s (none): stdout %q stderr %q", res, out, errOut)
		}
	}
	// The rows' PartialObjectMetadata gives kubectl the namespace column.
	if got := run("get", "deployments", "--all-namespaces", "--no-headers"); got != "default   web   2/3   3     2     3h\n" {
		t.Errorf("kubectl get deployments -A printed %q", got)
	}
}
