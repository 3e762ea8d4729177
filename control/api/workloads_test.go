package api_test

import (
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	dsPath = "/apis/apps/v1/namespaces/default/daemonsets"
	cjPath = "/apis/batch/v1/namespaces/default/cronjobs"
)

// TestDaemonSetDefaultsAndValidation: kube-apiserver's apps/v1 defaults
// (RollingUpdate, maxUnavailable 1, maxSurge 0, revisionHistoryLimit 10,
// the pod defaults) and its validation, with the field of each error; a
// surge weir does not implement is refused, not ignored.
func TestDaemonSetDefaultsAndValidation(t *testing.T) {
	e := newEnv(t)
	ds := func(name, spec string) string {
		return `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"` + name + `"},"spec":{` + spec + `}}`
	}
	tpl := `"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"x"}]}}`
	got := e.req("POST", dsPath, ds("ok", tpl)).must(t, http.StatusCreated).obj(t)
	for _, c := range [][]any{
		{"RollingUpdate", "spec", "updateStrategy", "type"},
		{float64(1), "spec", "updateStrategy", "rollingUpdate", "maxUnavailable"},
		{float64(0), "spec", "updateStrategy", "rollingUpdate", "maxSurge"},
		{float64(10), "spec", "revisionHistoryLimit"},
		{"Always", "spec", "template", "spec", "restartPolicy"},
	} {
		if v := path(got, strs(c[1:])...); v != c[0] {
			t.Errorf("%v = %v, want %v", c[1:], v, c[0])
		}
	}
	for _, c := range []struct{ name, spec, field string }{
		{"restart", strings.Replace(tpl, `"containers"`, `"restartPolicy":"Never","containers"`, 1), "spec.template.spec.restartPolicy"},
		{"mismatch", strings.Replace(tpl, `"labels":{"app":"a"}`, `"labels":{"app":"b"}`, 1), "spec.template.metadata.labels"},
		{"noselector", `"template":{"metadata":{"labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"x"}]}}`, "spec.selector"},
		{"surge", tpl + `,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}}`, "spec.updateStrategy.rollingUpdate.maxSurge"},
		{"zero", tpl + `,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0}}`, "spec.updateStrategy.rollingUpdate.maxUnavailable"},
		{"percent", tpl + `,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"150%"}}`, "spec.updateStrategy.rollingUpdate.maxUnavailable"},
		{"strategy", tpl + `,"updateStrategy":{"type":"Sometimes"}`, "spec.updateStrategy.type"},
		{"minready", tpl + `,"minReadySeconds":-1`, "spec.minReadySeconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := e.req("POST", dsPath, ds(c.name, c.spec)).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
			if !hasCause(st, c.field) {
				t.Fatalf("causes %+v, want %s", st.Details, c.field)
			}
		})
	}
	// OnDelete needs no rollingUpdate; the selector never changes
	e.req("POST", dsPath, ds("ondelete", tpl+`,"updateStrategy":{"type":"OnDelete"}`)).must(t, http.StatusCreated)
	patch := `{"spec":{"selector":{"matchLabels":{"app":"a","x":"y"}},"template":{"metadata":{"labels":{"app":"a","x":"y"}}}}}`
	st := e.req("PATCH", dsPath+"/ok", patch, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !hasCause(st, "spec.selector") {
		t.Fatalf("causes %+v", st.Details)
	}
	// status is its own subresource
	e.req("PUT", dsPath+"/ok/status", `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ok"},"status":{"desiredNumberScheduled":2,"currentNumberScheduled":2,"numberReady":1,"numberMisscheduled":0}}`).
		must(t, http.StatusOK)
	got = e.req("GET", dsPath+"/ok", nil).must(t, http.StatusOK).obj(t)
	if path(got, "status", "numberReady") != float64(1) || path(got, "spec", "template") == nil {
		t.Fatalf("after status update: %v", got)
	}
}

// TestCronJobDefaultsAndValidation: kube-apiserver's batch/v1 defaults
// and validation of schedule, timeZone, name length, policies and the
// job template.
func TestCronJobDefaultsAndValidation(t *testing.T) {
	e := newEnv(t)
	cj := func(name, spec string) string {
		return `{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"` + name + `"},"spec":{` + spec + `}}`
	}
	tpl := `"jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"x"}]}}}}`
	got := e.req("POST", cjPath, cj("ok", `"schedule":"*/5 * * * *","timeZone":"Europe/Berlin",`+tpl)).must(t, http.StatusCreated).obj(t)
	for _, c := range [][]any{
		{"Allow", "spec", "concurrencyPolicy"},
		{false, "spec", "suspend"},
		{float64(3), "spec", "successfulJobsHistoryLimit"},
		{float64(1), "spec", "failedJobsHistoryLimit"},
		{"ClusterFirst", "spec", "jobTemplate", "spec", "template", "spec", "dnsPolicy"},
	} {
		if v := path(got, strs(c[1:])...); v != c[0] {
			t.Errorf("%v = %v, want %v", c[1:], v, c[0])
		}
	}
	e.req("POST", cjPath, cj("hourly", `"schedule":"@hourly",`+tpl)).must(t, http.StatusCreated)
	for _, c := range []struct{ name, spec, field string }{
		{"noschedule", tpl, "spec.schedule"},
		{"badschedule", `"schedule":"61 * * * *",` + tpl, "spec.schedule"},
		{"tzinschedule", `"schedule":"CRON_TZ=UTC 0 * * * *",` + tpl, "spec.schedule"},
		{"badzone", `"schedule":"0 * * * *","timeZone":"Mars/Olympus",` + tpl, "spec.timeZone"},
		{"local", `"schedule":"0 * * * *","timeZone":"Local",` + tpl, "spec.timeZone"},
		{"policy", `"schedule":"0 * * * *","concurrencyPolicy":"Sometimes",` + tpl, "spec.concurrencyPolicy"},
		{"deadline", `"schedule":"0 * * * *","startingDeadlineSeconds":-5,` + tpl, "spec.startingDeadlineSeconds"},
		{"history", `"schedule":"0 * * * *","failedJobsHistoryLimit":-1,` + tpl, "spec.failedJobsHistoryLimit"},
		{"always", `"schedule":"0 * * * *",` + strings.Replace(tpl, "OnFailure", "Always", 1), "spec.jobTemplate.spec.template.spec.restartPolicy"},
		{strings.Repeat("n", 53), `"schedule":"0 * * * *",` + tpl, "metadata.name"},
	} {
		t.Run(c.field, func(t *testing.T) {
			st := e.req("POST", cjPath, cj(c.name, c.spec)).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
			if !hasCause(st, c.field) {
				t.Fatalf("causes %+v, want %s", st.Details, c.field)
			}
		})
	}
}

func hasCause(st metav1.Status, field string) bool {
	if st.Details == nil {
		return false
	}
	for _, c := range st.Details.Causes {
		if c.Field == field {
			return true
		}
	}
	return false
}

func strs(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = x.(string)
	}
	return out
}

// TestControllerRevisionValidation: data is required and immutable; the
// revision number may change (a rollback renumbers a revision) but is
// not negative.
func TestControllerRevisionValidation(t *testing.T) {
	e := newEnv(t)
	p := "/apis/apps/v1/namespaces/default/controllerrevisions"
	for _, c := range []struct{ body, field string }{
		{`{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"nodata"},"revision":1}`, "data"},
		{`{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"neg"},"revision":-1,"data":{"a":1}}`, "revision"},
	} {
		st := e.req("POST", p, c.body).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if !hasCause(st, c.field) {
			t.Errorf("causes %+v, want %s", st.Details, c.field)
		}
	}
	e.req("POST", p, `{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"r"},"revision":1,"data":{"a":1}}`).must(t, http.StatusCreated)
	e.req("PATCH", p+"/r", `{"revision":3}`, "Content-Type: application/merge-patch+json").must(t, http.StatusOK)
	st := e.req("PATCH", p+"/r", `{"data":{"a":2}}`, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !hasCause(st, "data") {
		t.Errorf("causes %+v, want data", st.Details)
	}
}
