package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store/storetest"
)

// listPage is a decoded list answer.
type listPage struct {
	Metadata struct {
		ResourceVersion    string `json:"resourceVersion"`
		Continue           string `json:"continue"`
		RemainingItemCount *int64 `json:"remainingItemCount"`
	} `json:"metadata"`
	Items []map[string]any `json:"items"`
}

func (e *env) listPage(path string) listPage {
	e.t.Helper()
	var p listPage
	e.req("GET", path, nil).must(e.t, 200).into(e.t, &p)
	return p
}

// createCMs creates n configmaps cm-0000.. with 8 concurrent clients.
func (e *env) createCMs(n int, labels func(i int) string) {
	e.t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				r := e.reqNoFatal("POST", cmPath, cm(fmt.Sprintf("cm-%04d", i), labels(i)))
				if r != nil && r.code != 201 {
					failed.Store(fmt.Sprintf("create cm-%04d: HTTP %d %s", i, r.code, r.body))
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		e.t.Fatal(f)
	}
}

// reqNoFatal is req for goroutines other than the test's: errors come back
// as a 0 code.
func (e *env) reqNoFatal(method, path string, body string) *resp {
	r, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		return &resp{}
	}
	r.Header.Set("Authorization", "Bearer "+testToken)
	res, err := e.http.Client().Do(r)
	if err != nil {
		return &resp{}
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &resp{code: res.StatusCode, body: data}
}

// TestListPaginationConsistentUnderWrites pages through 1,000 configmaps
// with limit=100 while other clients create, update and delete: every
// object of the first page's revision comes exactly once, at that
// revision, and nothing else.
func TestListPaginationConsistentUnderWrites(t *testing.T) {
	e := newEnv(t)
	e.createCMs(1000, func(int) string { return "" })

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	wg.Add(1)
	go func() { // concurrent writer: deletes, updates and creates
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch i % 3 {
			case 0:
				e.reqNoFatal("DELETE", fmt.Sprintf("%s/cm-%04d", cmPath, (i*7)%1000), "")
			case 1:
				e.reqNoFatal("PUT", fmt.Sprintf("%s/cm-%04d", cmPath, (i*13)%1000), cm(fmt.Sprintf("cm-%04d", (i*13)%1000), `"changed":"yes"`))
			case 2:
				e.reqNoFatal("POST", cmPath, cm(fmt.Sprintf("cm-%04d-new-%d", i%1000, i), ""))
			}
			writes.Add(1)
		}
	}()

	var pages []listPage
	seen := map[string]string{} // name -> resourceVersion
	next := cmPath + "?limit=100"
	for len(pages) < 100 {
		p := e.listPage(next)
		pages = append(pages, p)
		if len(p.Items) > 100 {
			t.Fatalf("page %d has %d items, limit 100", len(pages), len(p.Items))
		}
		if p.Metadata.ResourceVersion != pages[0].Metadata.ResourceVersion {
			t.Fatalf("page %d at resourceVersion %s, first page at %s", len(pages), p.Metadata.ResourceVersion, pages[0].Metadata.ResourceVersion)
		}
		for _, it := range p.Items {
			n := str(it, "metadata", "name")
			if _, dup := seen[n]; dup {
				t.Fatalf("%s listed twice", n)
			}
			seen[n] = str(it, "metadata", "resourceVersion")
		}
		if p.Metadata.Continue == "" {
			break
		}
		checkToken(t, p.Metadata.Continue, pages[0].Metadata.ResourceVersion)
		// let the writer change the state between pages
		for w, until := writes.Load(), time.Now().Add(5*time.Second); writes.Load() < w+3 && time.Now().Before(until); {
			time.Sleep(time.Millisecond)
		}
		next = cmPath + "?limit=100&continue=" + url.QueryEscape(p.Metadata.Continue)
	}
	close(stop)
	wg.Wait()
	if writes.Load() < 27 {
		t.Fatalf("only %d concurrent writes happened while paging", writes.Load())
	}
	// the same revision, in one piece
	rv := pages[0].Metadata.ResourceVersion
	whole := e.listPage(cmPath + "?resourceVersion=" + rv + "&resourceVersionMatch=Exact")
	if len(whole.Items) != len(seen) {
		t.Fatalf("paged %d objects, the list at %s has %d", len(seen), rv, len(whole.Items))
	}
	for _, it := range whole.Items {
		n := str(it, "metadata", "name")
		if got, ok := seen[n]; !ok || got != str(it, "metadata", "resourceVersion") {
			t.Fatalf("%s@%s at revision %s: paged as %q (present %v)", n, str(it, "metadata", "resourceVersion"), rv, got, ok)
		}
	}
	if rc := pages[0].Metadata.RemainingItemCount; rc == nil || *rc != int64(len(seen)-100) {
		t.Fatalf("first page remainingItemCount %v, want %d", rc, len(seen)-100)
	}
	if last := pages[len(pages)-1]; last.Metadata.RemainingItemCount != nil {
		t.Fatalf("last page has remainingItemCount %d", *last.Metadata.RemainingItemCount)
	}
	// a WatchList streams the same 1,000+ objects (several internal pages)
	now := e.listPage(cmPath)
	w := e.openWatch(cmPath + watchList)
	added := map[string]bool{}
	for {
		ev := w.next()
		if ev.Type == "BOOKMARK" {
			if ev.rv() != now.Metadata.ResourceVersion {
				t.Fatalf("initial-events-end at %s, list at %s", ev.rv(), now.Metadata.ResourceVersion)
			}
			break
		}
		if ev.Type != "ADDED" || added[ev.name()] {
			t.Fatalf("initial event %s %s (seen before: %v)", ev.Type, ev.name(), added[ev.name()])
		}
		added[ev.name()] = true
	}
	if len(added) != len(now.Items) {
		t.Fatalf("WatchList sent %d objects, the list has %d", len(added), len(now.Items))
	}
}

// checkToken decodes a continue token as kube's: base64url JSON with v,
// rv and start.
func checkToken(t *testing.T, tok, rv string) {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("continue token %q: %v", tok, err)
	}
	var c struct {
		V     string `json:"v"`
		RV    int64  `json:"rv"`
		Start string `json:"start"`
	}
	if err := json.Unmarshal(data, &c); err != nil || c.V != "meta.k8s.io/v1" || fmt.Sprint(c.RV) != rv || !strings.HasSuffix(c.Start, "\x00") {
		t.Fatalf("continue token %s: %+v %v, want v meta.k8s.io/v1, rv %s", data, c, err, rv)
	}
}

func TestListLimitWithSelectorsAndAllNamespaces(t *testing.T) {
	e := newEnv(t)
	e.createCMs(30, func(i int) string {
		if i%3 == 0 {
			return `"pick":"yes"`
		}
		return ""
	})
	e.req("POST", "/api/v1/namespaces/kube-system/configmaps", cm("cm-other", `"pick":"yes"`)).must(t, 201)
	got := map[string]bool{}
	next := "/api/v1/configmaps?limit=4&labelSelector=pick%3Dyes"
	for range 50 {
		p := e.listPage(next)
		if len(p.Items) > 4 {
			t.Fatalf("page of %d items, limit 4", len(p.Items))
		}
		if p.Metadata.RemainingItemCount != nil {
			t.Fatal("remainingItemCount with a selector")
		}
		for _, it := range p.Items {
			got[str(it, "metadata", "namespace")+"/"+str(it, "metadata", "name")] = true
		}
		if p.Metadata.Continue == "" {
			break
		}
		next = "/api/v1/configmaps?limit=4&labelSelector=pick%3Dyes&continue=" + url.QueryEscape(p.Metadata.Continue)
	}
	if len(got) != 11 || !got["kube-system/cm-other"] || !got["default/cm-0027"] || got["default/cm-0001"] {
		t.Fatalf("selected %d: %v", len(got), got)
	}
}

func TestListContinueAndResourceVersionErrors(t *testing.T) {
	cfg := storetest.Config("m1", t.TempDir())
	cfg.Bootstrap, cfg.HistoryRevisions = true, 20
	e := newEnvOn(t, storetest.Open(t, cfg))
	e.createCMs(10, func(int) string { return "" })
	first := e.listPage(cmPath + "?limit=3")
	if first.Metadata.Continue == "" {
		t.Fatal("no continue token")
	}
	tok := url.QueryEscape(first.Metadata.Continue)

	st := e.req("GET", cmPath+"?limit=3&continue=bm90LWpzb24", nil).status(t, 400, metav1.StatusReasonBadRequest)
	if !strings.HasPrefix(st.Message, "invalid continue token: continue key is not valid") {
		t.Fatalf("bad token: %q", st.Message)
	}
	st = e.req("GET", cmPath+"?limit=3&resourceVersion=5&continue="+tok, nil).status(t, 400, metav1.StatusReasonBadRequest)
	if st.Message != "specifying resource version is not allowed when using continue" {
		t.Fatalf("continue with resourceVersion: %q", st.Message)
	}
	st = e.req("GET", cmPath+"?sendInitialEvents=true", nil).status(t, 422, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "sendInitialEvents is forbidden for list") {
		t.Fatalf("sendInitialEvents on a list: %q", st.Message)
	}
	// a resourceVersion the store has not reached: kube's 504 with its cause
	future := e.req("GET", cmPath+"?resourceVersion=99999999&resourceVersionMatch=NotOlderThan", nil)
	st = future.status(t, 504, metav1.StatusReasonTimeout)
	if !strings.HasPrefix(st.Message, "Timeout: Too large resource version: 99999999, current: ") || st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge {
		t.Fatalf("future NotOlderThan: %+v", st)
	}
	if st.Details.RetryAfterSeconds != 1 || future.header.Get("Retry-After") != "1" {
		t.Errorf("future NotOlderThan: retryAfterSeconds %d, Retry-After %q; want 1 and \"1\"", st.Details.RetryAfterSeconds, future.header.Get("Retry-After"))
	}
	e.req("GET", cmPath+"/cm-0001?resourceVersion=99999999", nil).status(t, 504, metav1.StatusReasonTimeout)
	// NotOlderThan an old revision and "0" answer with the current state
	rv := first.Metadata.ResourceVersion
	if p := e.listPage(cmPath + "?resourceVersion=1&resourceVersionMatch=NotOlderThan"); len(p.Items) != 10 || atoi(t, p.Metadata.ResourceVersion) < atoi(t, rv) {
		t.Fatalf("NotOlderThan 1: %d items at %s", len(p.Items), p.Metadata.ResourceVersion)
	}
	if p := e.listPage(cmPath + "?resourceVersion=0"); len(p.Items) != 10 {
		t.Fatalf("resourceVersion=0: %d items", len(p.Items))
	}
	e.req("GET", cmPath+"/cm-0001?resourceVersion="+rv, nil).must(t, 200)

	// the history moves past the first page's revision
	for i := range 40 {
		e.req("PUT", cmPath+"/cm-0009", cm("cm-0009", fmt.Sprintf(`"n":"%d"`, i))).must(t, 200)
	}
	st = e.req("GET", cmPath+"?limit=3&continue="+tok, nil).status(t, 410, metav1.StatusReasonExpired)
	if !strings.HasPrefix(st.Message, "The provided continue parameter is too old to display a consistent list result.") || st.Continue == "" {
		t.Fatalf("expired continue: %+v", st)
	}
	data, _ := base64.RawURLEncoding.DecodeString(st.Continue)
	if !strings.Contains(string(data), `"rv":-1`) {
		t.Fatalf("fresh token %s does not continue at the latest revision", data)
	}
	// the fresh token continues (inconsistently) at the latest revision
	rest := e.listPage(cmPath + "?limit=20&continue=" + url.QueryEscape(st.Continue))
	if len(rest.Items) != 7 || str(rest.Items[0], "metadata", "name") != "cm-0003" || atoi(t, rest.Metadata.ResourceVersion) <= atoi(t, rv) {
		t.Fatalf("continued at the latest: %d items from %s at %s", len(rest.Items), str(rest.Items[0], "metadata", "name"), rest.Metadata.ResourceVersion)
	}
	// an exact list, or a legacy list with a limit, at a revision gone
	for _, q := range []string{"?resourceVersionMatch=Exact&resourceVersion=", "?limit=5&resourceVersion="} {
		st = e.req("GET", cmPath+q+rv, nil).status(t, 410, metav1.StatusReasonExpired)
		if !strings.HasPrefix(st.Message, "too old resource version: "+rv+" (") {
			t.Fatalf("%s: %q", q, st.Message)
		}
	}
}

func TestFieldSelectorsPerKind(t *testing.T) {
	e := newEnv(t)
	pod := func(name, extra string) {
		body := fmt.Sprintf(`{"metadata":{"name":%q},"spec":{"containers":[{"name":"c","image":"busybox"}]%s}}`, name, extra)
		e.req("POST", podPath, body).must(t, 201)
	}
	pod("a", `,"nodeName":"n1","restartPolicy":"Never","serviceAccountName":"robot","hostNetwork":true`)
	pod("b", `,"nodeName":"n2","schedulerName":"other"`)
	e.req("PUT", podPath+"/b/status", `{"metadata":{"name":"b"},"spec":{"containers":[{"name":"c","image":"busybox"}]},"status":{"phase":"Running","podIP":"10.1.0.7","podIPs":[{"ip":"10.1.0.7"}],"nominatedNodeName":"n3"}}`).must(t, 200)
	names := func(path string) string {
		out := ""
		for _, it := range e.listPage(path).Items {
			out += str(it, "metadata", "name")
		}
		return out
	}
	cases := map[string]string{
		"spec.restartPolicy=Never":               "a",
		"spec.restartPolicy!=Never":              "b",
		"spec.serviceAccountName==robot":         "a",
		"spec.schedulerName=other":               "b",
		"spec.hostNetwork=true":                  "a",
		"status.podIP=10.1.0.7":                  "b",
		"status.nominatedNodeName=n3":            "b",
		"status.phase=Running":                   "b",
		"spec.host=n2":                           "b", // the legacy name of spec.nodeName
		"spec.nodeName=n1,status.phase!=Running": "a",
		"metadata.namespace=default":             "ab",
	}
	for q, want := range cases {
		if got := names(podPath + "?fieldSelector=" + url.QueryEscape(q)); got != want {
			t.Errorf("pods %s: got %q, want %q", q, got, want)
		}
	}
	e.req("POST", svcPath, `{"metadata":{"name":"s1"},"spec":{"ports":[{"port":80}]}}`).must(t, 201)
	e.req("POST", svcPath, `{"metadata":{"name":"s2"},"spec":{"type":"NodePort","ports":[{"port":80}]}}`).must(t, 201)
	if got := names(svcPath + "?fieldSelector=spec.type%3DNodePort"); got != "s2" {
		t.Errorf("services spec.type=NodePort: %q", got)
	}
	ip := str(e.req("GET", svcPath+"/s1", nil).must(t, 200).obj(t), "spec", "clusterIP")
	if got := names(svcPath + "?fieldSelector=spec.clusterIP%3D" + ip); got != "s1" {
		t.Errorf("services spec.clusterIP=%s: %q", ip, got)
	}
	for path, msg := range map[string]string{
		podPath + "?fieldSelector=status.hostIP%3Dx":                                     "field label not supported: status.hostIP",
		"/api/v1/nodes?fieldSelector=metadata.namespace%3Dx":                             "field label not supported: metadata.namespace",
		"/api/v1/namespaces?fieldSelector=spec.finalizers%3Dx":                           "field label not supported: spec.finalizers",
		"/apis/batch/v1/namespaces/default/jobs?fieldSelector=spec.x%3D1":                `field label "spec.x" not supported for Job`,
		"/apis/apps/v1/namespaces/default/replicasets?fieldSelector=status.replicas%3D1": `"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"`,
	} {
		if st := e.req("GET", path, nil).status(t, 400, metav1.StatusReasonBadRequest); st.Message != msg {
			t.Errorf("%s: %q, want %q", path, st.Message, msg)
		}
	}
	e.req("GET", "/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse", nil).must(t, 200)
	e.req("GET", "/apis/batch/v1/namespaces/default/jobs?fieldSelector=status.successful%3D0", nil).must(t, 200)
}
