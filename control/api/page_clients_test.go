package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/pager"
)

// TestPaginationClients: kubectl get --chunk-size and client-go's
// ListPager read 25 ConfigMaps in pages (limit and continue on the wire),
// each object once, at the first page's resourceVersion.
func TestPaginationClients(t *testing.T) {
	k := newKubectlEnv(t)
	k.createCMs(25, func(int) string { return "" })

	// kubectl: the same names with --chunk-size=4 as in one list.
	whole := k.mustKubectl(t, "", "get", "configmaps", "-o", "name", "--chunk-size=0")
	k.mu.Lock()
	k.requests = nil
	k.mu.Unlock()
	paged := k.mustKubectl(t, "", "get", "configmaps", "-o", "name", "--chunk-size=4")
	if paged != whole || strings.Count(paged, "configmap/cm-") != 25 {
		t.Errorf("kubectl --chunk-size=4:\n%s\nwithout chunks:\n%s", paged, whole)
	}
	pages, continued := 0, 0
	k.mu.Lock()
	for _, r := range k.requests {
		if strings.Contains(r, "/configmaps?") && strings.Contains(r, "limit=4") {
			pages++
			if strings.Contains(r, "continue=") {
				continued++
			}
		}
	}
	k.mu.Unlock()
	if pages < 7 || continued != pages-1 {
		t.Errorf("kubectl sent %d pages of 4, %d with continue; want >= 7, all but the first continued", pages, continued)
	}

	// client-go's pager, protobuf as client-go speaks it.
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: k.http.URL, BearerToken: testToken,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		ContentConfig:   rest.ContentConfig{ContentType: runtime.ContentTypeProtobuf}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	calls := 0
	var rvs []string
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		calls++
		l, err := cs.CoreV1().ConfigMaps("default").List(ctx, opts)
		if err == nil {
			rvs = append(rvs, l.ResourceVersion)
		}
		return l, err
	})
	p.PageSize = 6
	seen := map[string]int{}
	err = p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		a, err := metaAccessor(obj)
		if err != nil {
			return err
		}
		seen[a]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cms := 0
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", name, n)
		}
		if strings.HasPrefix(name, "cm-") {
			cms++
		}
	}
	if cms != 25 || calls < 5 {
		t.Errorf("pager: %d ConfigMaps in %d calls; want 25 in >= 5 pages of 6", cms, calls)
	}
	for _, rv := range rvs[1:] {
		if rv != rvs[0] {
			t.Errorf("pages at resourceVersions %v; want one", rvs)
			break
		}
	}
}

func metaAccessor(obj runtime.Object) (string, error) {
	a, ok := obj.(metav1.Object)
	if !ok {
		return "", fmt.Errorf("%T has no metadata", obj)
	}
	return a.GetName(), nil
}

// TestWatchFutureResourceVersion: a watch from a resourceVersion the
// store has not reached (2^64-1 included, which must not wrap to 0 and
// replay the history) gets, after a bounded wait, one ERROR event
// carrying kube's 504 "Too large resource version" Status with the
// ResourceVersionTooLarge cause and retryAfterSeconds, as
// kube-apiserver's watch cache answers; then the stream ends.
func TestWatchFutureResourceVersion(t *testing.T) {
	e := newEnv(t)
	e.req("POST", cmPath, cm("a", "")).must(t, 201)
	for _, rv := range []string{strconv.FormatUint(math.MaxUint64, 10), strconv.FormatUint(e.store.Revision()+500, 10)} {
		req, _ := http.NewRequest("GET", e.http.URL+cmPath+"?watch=true&resourceVersion="+rv, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		start := time.Now()
		res, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(res.Body)
		var events []string
		for sc.Scan() {
			events = append(events, sc.Text())
		}
		res.Body.Close()
		took := time.Since(start)
		if res.StatusCode != 200 || len(events) != 1 {
			t.Fatalf("watch from %s: %d, events %q", rv, res.StatusCode, events)
		}
		var ev struct {
			Type   string
			Object metav1.Status
		}
		if err := json.Unmarshal([]byte(events[0]), &ev); err != nil {
			t.Fatal(err)
		}
		st := ev.Object
		if ev.Type != "ERROR" || st.Code != 504 || st.Reason != metav1.StatusReasonTimeout || !strings.Contains(st.Message, "Too large resource version: "+rv) ||
			st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge || st.Details.RetryAfterSeconds != 1 {
			t.Errorf("watch from %s: %s", rv, events[0])
		}
		if took < 2*time.Second || took > 8*time.Second {
			t.Errorf("watch from %s answered after %v; want the ~3 s bounded wait", rv, took)
		}
	}
	// An exact list far in the future: 504 with the cause and Retry-After.
	r := e.req("GET", cmPath+"?resourceVersionMatch=Exact&resourceVersion="+strconv.FormatUint(math.MaxUint64, 10), nil)
	st := r.status(t, 504, metav1.StatusReasonTimeout)
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge || r.header.Get("Retry-After") != "1" {
		t.Errorf("exact list at 2^64-1: %s %v", r.body, r.header)
	}
}
