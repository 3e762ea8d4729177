package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

const nsPath = "/api/v1/namespaces/default/"

// podWith is a pod manifest whose one container "app" has the given
// requests and limits (JSON objects, "" for none).
func podWith(name, requests, limits string) string {
	res := []string{}
	if requests != "" {
		res = append(res, `"requests":`+requests)
	}
	if limits != "" {
		res = append(res, `"limits":`+limits)
	}
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q},"spec":{"containers":[{"name":"app","image":"busybox","resources":{%s}}]}}`,
		name, strings.Join(res, ","))
}

// forbidden checks a 403 Forbidden Status with exactly msg.
func forbidden(t *testing.T, r *resp, msg string) {
	t.Helper()
	st := r.status(t, http.StatusForbidden, metav1.StatusReasonForbidden)
	if st.Message != msg {
		t.Errorf("message\n got: %s\nwant: %s", st.Message, msg)
	}
}

func TestLimitRangeDefaultsAndBounds(t *testing.T) {
	e := newEnv(t)
	e.req("POST", nsPath+"limitranges", `{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"lr"},"spec":{"limits":[
		{"type":"Container","max":{"cpu":"1","memory":"512Mi"},"min":{"cpu":"50m"},"defaultRequest":{"cpu":"100m","memory":"64Mi"},"maxLimitRequestRatio":{"cpu":"10"}},
		{"type":"Pod","max":{"memory":"1Gi"}}]}}`).must(t, http.StatusCreated)

	// The stored LimitRange has kube's defaults: default (limit) from max.
	var lr corev1.LimitRange
	e.req("GET", nsPath+"limitranges/lr", nil).must(t, http.StatusOK).into(t, &lr)
	if got := lr.Spec.Limits[0].Default.Cpu().String(); got != "1" {
		t.Errorf("default cpu = %s, want 1 (from max)", got)
	}

	var p corev1.Pod
	e.req("POST", nsPath+"pods", podWith("plain", "", "")).must(t, http.StatusCreated).into(t, &p)
	c := p.Spec.Containers[0].Resources
	if c.Requests.Cpu().String() != "100m" || c.Requests.Memory().String() != "64Mi" || c.Limits.Cpu().String() != "1" || c.Limits.Memory().String() != "512Mi" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if got, want := p.Annotations["kubernetes.io/limit-ranger"], "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app"; got != want {
		t.Errorf("annotation %q, want %q", got, want)
	}

	for _, tc := range []struct{ name, requests, limits, msg string }{
		{"big", "", `{"cpu":"2"}`, `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`},
		{"tiny", `{"cpu":"10m"}`, `{"cpu":"20m"}`, `pods "tiny" is forbidden: minimum cpu usage per Container is 50m, but request is 10m`},
		{"ratio", `{"cpu":"60m"}`, `{"cpu":"1"}`, `pods "ratio" is forbidden: cpu max limit to request ratio per Container is 10, but provided ratio is 16.666667`},
		{"two", `{"cpu":"10m"}`, `{"cpu":"2"}`, `pods "two" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per Container is 10, but provided ratio is 200.000000]`},
	} {
		forbidden(t, e.req("POST", nsPath+"pods", podWith(tc.name, tc.requests, tc.limits)), tc.msg)
	}

	// Pod items bound the sum over containers.
	twoContainers := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pair"},"spec":{"containers":[
		{"name":"a","image":"busybox","resources":{"limits":{"memory":"512Mi"}}},
		{"name":"b","image":"busybox","resources":{"limits":{"memory":"512Mi"}}},
		{"name":"c","image":"busybox","resources":{"limits":{"memory":"1Mi"}}}]}}`
	forbidden(t, e.req("POST", nsPath+"pods", twoContainers), `pods "pair" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1025Mi`)

	// A default request above the container's own limit is kube's 422.
	r := e.req("POST", nsPath+"pods", podWith("under", "", `{"cpu":"80m","memory":"32Mi"}`)).must(t, http.StatusCreated)
	var under corev1.Pod
	r.into(t, &under)
	if got := under.Spec.Containers[0].Resources.Requests.Memory().String(); got != "32Mi" {
		t.Errorf("request memory %s, want 32Mi (defaulted from the limit before the LimitRange)", got)
	}
}

func TestLimitRangeValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ body, want string }{
		{`{"type":"Container","min":{"cpu":"2"},"max":{"cpu":"1"}}`, `spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1`},
		{`{"type":"Pod","default":{"cpu":"1"}}`, "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"},
		{`{"type":"Container","maxLimitRequestRatio":{"cpu":"500m"}}`, `spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1`},
		{`{"type":"PersistentVolumeClaim","max":{"storage":"1Gi"}}`, `spec.limits[0].type: Forbidden: not supported by weir: LimitRanges do not bound PersistentVolumeClaims' storage yet`},
		{`{"type":"Container","max":{"nvidia.com/gpu":"1"}}`, `spec.limits[0].max[nvidia.com/gpu]: Unsupported value: "nvidia.com/gpu": supported values: "cpu", "memory"`},
		{`{"type":"Container","defaultRequest":{"cpu":"2"},"default":{"cpu":"1"}}`, `spec.limits[0].defaultRequest[cpu]: Invalid value: "2": default request value 2 is greater than default limit value 1`},
	} {
		r := e.req("POST", nsPath+"limitranges", `{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"bad"},"spec":{"limits":[`+tc.body+`]}}`)
		st := r.status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if !strings.Contains(st.Message, tc.want) {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.body, st.Message, tc.want)
		}
	}
}

func quotaBody(name, hard string) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":%q},"spec":{"hard":%s}}`, name, hard)
}

func TestQuotaObjectCounts(t *testing.T) {
	e := newEnv(t)
	e.req("POST", nsPath+"configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"before"}}`).must(t, http.StatusCreated)
	var q corev1.ResourceQuota
	e.req("POST", nsPath+"resourcequotas", quotaBody("objects", `{"pods":"2","configmaps":"2","count/deployments.apps":"0","services.nodeports":"1","services.loadbalancers":"0","secrets":"5","resourcequotas":"1"}`)).
		must(t, http.StatusCreated).into(t, &q)
	if got := q.Status.Used[corev1.ResourceConfigMaps]; got.String() != "1" {
		t.Errorf("status.used configmaps at create = %s, want 1 (the one before)", got.String())
	}
	if got := q.Status.Used[corev1.ResourceQuotas]; got.String() != "1" {
		t.Errorf("status.used resourcequotas = %s, want 1 (itself)", got.String())
	}
	if len(q.Status.Hard) != 7 {
		t.Errorf("status.hard = %v", q.Status.Hard)
	}

	e.req("POST", nsPath+"pods", podWith("p1", "", "")).must(t, http.StatusCreated)
	e.req("POST", nsPath+"pods", podWith("p2", "", "")).must(t, http.StatusCreated)
	forbidden(t, e.req("POST", nsPath+"pods", podWith("p3", "", "")),
		`pods "p3" is forbidden: exceeded quota: objects, requested: pods=1, used: pods=2, limited: pods=2`)
	// a dry run is admitted or refused the same way and charges nothing
	forbidden(t, e.req("POST", nsPath+"pods?dryRun=All", podWith("p3", "", "")),
		`pods "p3" is forbidden: exceeded quota: objects, requested: pods=1, used: pods=2, limited: pods=2`)

	e.req("POST", nsPath+"configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c2"}}`).must(t, http.StatusCreated)
	forbidden(t, e.req("POST", nsPath+"configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c3"}}`),
		`configmaps "c3" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=2, limited: configmaps=2`)

	forbidden(t, e.req("POST", "/apis/apps/v1/namespaces/default/deployments", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
		"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}`),
		`deployments.apps "d" is forbidden: exceeded quota: objects, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0`)

	forbidden(t, e.req("POST", nsPath+"resourcequotas", quotaBody("second", `{"pods":"10"}`)),
		`resourcequotas "second" is forbidden: exceeded quota: objects, requested: resourcequotas=1, used: resourcequotas=1, limited: resourcequotas=1`)

	// Services: node ports on create and on an update that adds them.
	e.req("POST", nsPath+"services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"port":80}]}}`).must(t, http.StatusCreated)
	e.req("POST", nsPath+"services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"ip"},"spec":{"ports":[{"port":80}]}}`).must(t, http.StatusCreated)
	forbidden(t, e.req("PATCH", nsPath+"services/ip", `{"spec":{"type":"NodePort"}}`, "Content-Type: application/merge-patch+json"),
		`services "ip" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1`)
	forbidden(t, e.req("POST", nsPath+"services", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}}`),
		`services "lb" is forbidden: exceeded quota: objects, requested: services.loadbalancers=1,services.nodeports=1, used: services.loadbalancers=0,services.nodeports=1, limited: services.loadbalancers=0,services.nodeports=1`)

	e.req("GET", nsPath+"resourcequotas/objects", nil).must(t, http.StatusOK).into(t, &q)
	for name, want := range map[corev1.ResourceName]string{"pods": "2", "configmaps": "2", "services.nodeports": "1", "secrets": "0", "count/deployments.apps": "0"} {
		if got := q.Status.Used[name]; got.String() != want {
			t.Errorf("status.used[%s] = %s, want %s", name, got.String(), want)
		}
	}

	// Raising the limit recounts and admits again.
	e.req("PATCH", nsPath+"resourcequotas/objects", `{"spec":{"hard":{"pods":"3"}}}`, "Content-Type: application/merge-patch+json").must(t, http.StatusOK).into(t, &q)
	if got := q.Status.Hard[corev1.ResourcePods]; got.String() != "3" {
		t.Errorf("status.hard pods after the patch = %s, want 3", got.String())
	}
	e.req("POST", nsPath+"pods", podWith("p3", "", "")).must(t, http.StatusCreated)
}

func TestQuotaCompute(t *testing.T) {
	e := newEnv(t)
	// a terminal pod does not count toward compute
	e.req("POST", nsPath+"pods", podWith("done", `{"cpu":"900m","memory":"1Gi"}`, `{"cpu":"900m","memory":"1Gi"}`)).must(t, http.StatusCreated)
	done := e.req("GET", nsPath+"pods/done", nil).must(t, http.StatusOK).obj(t)
	done["status"] = map[string]any{"phase": "Succeeded"}
	e.req("PUT", nsPath+"pods/done/status", done).must(t, http.StatusOK)

	var q corev1.ResourceQuota
	e.req("POST", nsPath+"resourcequotas", quotaBody("compute", `{"requests.cpu":"1","limits.memory":"1Gi","cpu":"1","count/pods":"10"}`)).
		must(t, http.StatusCreated).into(t, &q)
	if got := q.Status.Used[corev1.ResourceRequestsCPU]; !got.IsZero() {
		t.Errorf("used requests.cpu = %s with only a Succeeded pod, want 0", got.String())
	}
	if got := q.Status.Used["count/pods"]; got.String() != "1" {
		t.Errorf("used count/pods = %s, want 1 (count/ counts terminal pods too)", got.String())
	}

	forbidden(t, e.req("POST", nsPath+"pods", podWith("nolimit", `{"cpu":"100m"}`, "")),
		`pods "nolimit" is forbidden: failed quota: compute: must specify limits.memory for: app`)
	forbidden(t, e.req("POST", nsPath+"pods", podWith("nothing", "", "")),
		`pods "nothing" is forbidden: failed quota: compute: must specify cpu for: app; limits.memory for: app; requests.cpu for: app`)

	e.req("POST", nsPath+"pods", podWith("a", `{"cpu":"600m"}`, `{"memory":"512Mi"}`)).must(t, http.StatusCreated)
	forbidden(t, e.req("POST", nsPath+"pods", podWith("b", `{"cpu":"600m"}`, `{"memory":"256Mi"}`)),
		`pods "b" is forbidden: exceeded quota: compute, requested: cpu=600m,requests.cpu=600m, used: cpu=600m,requests.cpu=600m, limited: cpu=1,requests.cpu=1`)
	e.req("POST", nsPath+"pods", podWith("c", `{"cpu":"400m"}`, `{"memory":"512Mi"}`)).must(t, http.StatusCreated)

	e.req("GET", nsPath+"resourcequotas/compute", nil).must(t, http.StatusOK).into(t, &q)
	for name, want := range map[corev1.ResourceName]string{"requests.cpu": "1", "cpu": "1", "limits.memory": "1Gi", "count/pods": "3"} {
		if got := q.Status.Used[name]; got.String() != want {
			t.Errorf("status.used[%s] = %s, want %s", name, got.String(), want)
		}
	}
}

func TestQuotaValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ body, want string }{
		{quotaBody("q", `{"requests.nvidia.com/gpu":"1"}`), `spec.hard[requests.nvidia.com/gpu]: Forbidden: not supported by weir`},
		{quotaBody("q", `{"count/widgets.example.com":"1"}`), `spec.hard[count/widgets.example.com]: Forbidden: not supported by weir: weir serves no resource widgets.example.com`},
		{quotaBody("q", `{"pods":"-1"}`), `spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0`},
		{quotaBody("q", `{"pods":"1500m"}`), `spec.hard[pods]: Invalid value: "1500m": must be an integer`},
		{`{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hard":{"pods":"1"},"scopes":["BestEffort"]}}`, `spec.scopes: Forbidden: not supported by weir`},
	} {
		r := e.req("POST", nsPath+"resourcequotas", tc.body)
		st := r.status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if !strings.Contains(st.Message, tc.want) {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.body, st.Message, tc.want)
		}
	}
}

// TestQuotaConcurrentCreates: many pods created at once never exceed the
// quota: every create charges the quota in its own Txn, conditioned on
// the quota's revision.
func TestQuotaConcurrentCreates(t *testing.T) {
	e := newEnv(t)
	const limit, n = 5, 24
	e.req("POST", nsPath+"resourcequotas", quotaBody("pods", fmt.Sprintf(`{"pods":"%d"}`, limit))).must(t, http.StatusCreated)
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.req("POST", nsPath+"pods", podWith(fmt.Sprintf("p%d", i), "", "")).code
		}()
	}
	wg.Wait()
	created := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusForbidden:
		default:
			t.Errorf("create p%d: %d", i, c)
		}
	}
	var pods corev1.PodList
	e.req("GET", nsPath+"pods", nil).must(t, http.StatusOK).into(t, &pods)
	var q corev1.ResourceQuota
	e.req("GET", nsPath+"resourcequotas/pods", nil).must(t, http.StatusOK).into(t, &q)
	if created != limit || len(pods.Items) != limit || q.Status.Used.Pods().Value() != limit {
		t.Errorf("created %d, stored %d pods, quota used %s; want %d of each", created, len(pods.Items), q.Status.Used.Pods(), limit)
	}
}

// TestPodStoredWithoutDefaultedRequests: requests default to limits only
// on create, and the requests-within-limits check only looks at new
// resources, so a pod stored before weir did either (limits without
// requests, a request above its limit) still takes status updates.
func TestPodStoredWithoutDefaultedRequests(t *testing.T) {
	e := newEnv(t)
	old := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"old","namespace":"default","uid":"u1","creationTimestamp":"2026-01-01T00:00:00Z"},
		"spec":{"restartPolicy":"Always","dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler","serviceAccountName":"default","terminationGracePeriodSeconds":30,
		"containers":[{"name":"app","image":"busybox","imagePullPolicy":"Always","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
		"resources":{"limits":{"cpu":"1"}}},
		{"name":"side","image":"busybox","imagePullPolicy":"Always","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
		"resources":{"limits":{"memory":"1Mi"},"requests":{"memory":"2Mi"}}}]},"status":{"phase":"Pending"}}`
	if _, err := store.Create(context.Background(), e.store, store.Key{Resource: "pods", Namespace: "default", Name: "old"}, []byte(old)); err != nil {
		t.Fatal(err)
	}
	p := e.req("GET", nsPath+"pods/old", nil).must(t, http.StatusOK).obj(t)
	p["status"] = map[string]any{"phase": "Running"}
	e.req("PUT", nsPath+"pods/old/status", p).must(t, http.StatusOK)

	// A new pod with a request above its limit is kube's 422.
	r := e.req("POST", nsPath+"pods", podWith("new", `{"memory":"2Mi"}`, `{"memory":"1Mi"}`))
	st := r.status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if want := `spec.containers[0].resources.requests[memory]: Invalid value: "2Mi": must be less than or equal to memory limit of 1Mi`; !strings.Contains(st.Message, want) {
		t.Errorf("message %s, want %s", st.Message, want)
	}
}

// TestQuotaAcrossMembers: pods created at once through three members,
// right after the quota, never exceed it.
func TestQuotaAcrossMembers(t *testing.T) {
	envs := startMembers(t)
	const limit, n = 7, 30
	retryUnavailable(func() *resp {
		return envs[0].req("POST", nsPath+"resourcequotas", quotaBody("pods", fmt.Sprintf(`{"pods":"%d"}`, limit)))
	}).must(t, http.StatusCreated)
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			codes[i] = retryUnavailable(func() *resp {
				return envs[i%3].req("POST", nsPath+"pods", podWith(fmt.Sprintf("p%d", i), "", ""))
			}).code
		})
	}
	wg.Wait()
	created := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusForbidden:
		default:
			t.Errorf("create p%d on member %d: %d", i, i%3+1, c)
		}
	}
	var pods corev1.PodList
	envs[1].req("GET", nsPath+"pods", nil).must(t, http.StatusOK).into(t, &pods)
	if created != limit || len(pods.Items) != limit {
		t.Errorf("created %d, stored %d pods; want %d", created, len(pods.Items), limit)
	}
}
