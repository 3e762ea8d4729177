package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/weirnet/weir/control/store"
)

// TestErrorConstructorsOnTheWire walks every error helper of status.go
// (and storeError's mapping of each store error) through writeError and
// checks the Status a client decodes, in JSON and in protobuf: kind,
// apiVersion, code, reason, message, details, and the Retry-After header.
func TestErrorConstructorsOnTheWire(t *testing.T) {
	s := &Server{log: testLogger(), codecs: newCodecs()}
	deploy := &resource{kindInfo: kindInfo{Group: "apps", Version: "v1", Kind: "Deployment", Plural: "deployments", Namespaced: true}}
	cm := &resource{kindInfo: kindInfo{Version: "v1", Kind: "ConfigMap", Plural: "configmaps", Namespaced: true}}
	badName := field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), "Bad_Name", "must be lowercase")}

	cases := []struct {
		name       string
		err        error
		code       int32
		reason     metav1.StatusReason
		msg        string // the exact message
		details    *metav1.StatusDetails
		retryAfter string // the Retry-After header, "" for none
	}{
		{"bad request", errBadRequest("bad %s", "thing"), 400, metav1.StatusReasonBadRequest, "bad thing", nil, ""},
		{"unauthorized", errUnauthorized(), 401, metav1.StatusReasonUnauthorized,
			"send 'Authorization: Bearer <token>' with a valid token (`weir kubeconfig` prints a kubeconfig that does), or a client certificate signed by the cluster CA", nil, ""},
		{"forbidden", errForbidden(cm, "x", errors.New("unable to create new content in namespace t because it is being terminated")), 403, metav1.StatusReasonForbidden,
			`configmaps "x" is forbidden: unable to create new content in namespace t because it is being terminated`,
			&metav1.StatusDetails{Name: "x", Kind: "configmaps"}, ""},
		{"not found core", errNotFound(cm, "x"), 404, metav1.StatusReasonNotFound, `configmaps "x" not found`,
			&metav1.StatusDetails{Name: "x", Kind: "configmaps"}, ""},
		{"not found group", errNotFound(deploy, "web"), 404, metav1.StatusReasonNotFound, `deployments.apps "web" not found`,
			&metav1.StatusDetails{Name: "web", Group: "apps", Kind: "deployments"}, ""},
		{"no route", errNoRoute(), 404, metav1.StatusReasonNotFound, "the server could not find the requested resource", &metav1.StatusDetails{}, ""},
		{"method not allowed", errMethodNotAllowed(), 405, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource", &metav1.StatusDetails{}, ""},
		{"not acceptable", errNotAcceptable("text/html"), 406, metav1.StatusReasonNotAcceptable,
			`only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf (not "text/html")`, nil, ""},
		{"negotiation error", negotiation.NewNotAcceptableError([]string{"application/json"}), 406, metav1.StatusReasonNotAcceptable,
			"only the following media types are accepted: application/json", nil, ""},
		{"already exists", errAlreadyExists(deploy, "web"), 409, metav1.StatusReasonAlreadyExists, `deployments.apps "web" already exists`,
			&metav1.StatusDetails{Name: "web", Group: "apps", Kind: "deployments"}, ""},
		{"stale revision", errStaleRevision(cm, "x"), 409, metav1.StatusReasonConflict,
			`Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply your changes to the latest version and try again`,
			&metav1.StatusDetails{Name: "x", Kind: "configmaps"}, ""},
		{"gone", errTooOld(&store.GoneError{Revision: 3, Oldest: 9}), 410, metav1.StatusReasonExpired, "too old resource version: 3 (9)", nil, ""},
		{"too large", errTooLarge(4096), 413, metav1.StatusReasonRequestEntityTooLarge, "Request entity too large: limit is 4096", nil, ""},
		{"unsupported media type", errUnsupportedMediaType("application/json", "application/yaml"), 415, metav1.StatusReasonUnsupportedMediaType,
			"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml", nil, ""},
		{"invalid", errInvalid(deploy, "Bad_Name", badName), 422, metav1.StatusReasonInvalid,
			`Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": must be lowercase`,
			&metav1.StatusDetails{Name: "Bad_Name", Group: "apps", Kind: "Deployment", Causes: []metav1.StatusCause{
				{Type: metav1.CauseTypeFieldValueInvalid, Message: `Invalid value: "Bad_Name": must be lowercase`, Field: "metadata.name"}}}, ""},
		{"internal", errInternal(errors.New("disk on fire")), 500, metav1.StatusReasonInternalError, "Internal error occurred: disk on fire",
			&metav1.StatusDetails{Causes: []metav1.StatusCause{{Message: "disk on fire"}}}, ""},
		{"plain error", fmt.Errorf("wrapped: %w", errors.New("boom")), 500, metav1.StatusReasonInternalError, "Internal error occurred: wrapped: boom",
			&metav1.StatusDetails{Causes: []metav1.StatusCause{{Message: "wrapped: boom"}}}, ""},
		{"unavailable", errUnavailable("no leader"), 503, metav1.StatusReasonServiceUnavailable, "no leader", &metav1.StatusDetails{RetryAfterSeconds: 1}, "1"},
		{"timeout", errTimeout("slow"), 504, metav1.StatusReasonTimeout, "Timeout: slow", &metav1.StatusDetails{RetryAfterSeconds: 1}, "1"},
		{"too large resource version", errTooLargeRV(99, 7), 504, metav1.StatusReasonTimeout, "Timeout: Too large resource version: 99, current: 7",
			&metav1.StatusDetails{RetryAfterSeconds: 1, Causes: []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}}, "1"},

		// storeError: each store error as kube-apiserver answers it
		{"store not found", storeError(fmt.Errorf("get: %w", store.ErrNotFound), deploy, "web"), 404, metav1.StatusReasonNotFound, `deployments.apps "web" not found`,
			&metav1.StatusDetails{Name: "web", Group: "apps", Kind: "deployments"}, ""},
		{"store exists", storeError(store.ErrExists, cm, "x"), 409, metav1.StatusReasonAlreadyExists, `configmaps "x" already exists`,
			&metav1.StatusDetails{Name: "x", Kind: "configmaps"}, ""},
		{"store conflict", storeError(store.ErrConflict, cm, "x"), 409, metav1.StatusReasonConflict,
			`Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply your changes to the latest version and try again`,
			&metav1.StatusDetails{Name: "x", Kind: "configmaps"}, ""},
		{"store gone", storeError(store.ErrGone, cm, ""), 410, metav1.StatusReasonExpired, "too old resource version: " + store.ErrGone.Error(), nil, ""},
		{"store future revision", storeError(store.ErrFutureRevision, cm, ""), 504, metav1.StatusReasonTimeout,
			"Timeout: Too large resource version: the requested revision is newer than this member's; retry", &metav1.StatusDetails{RetryAfterSeconds: 1}, "1"},
		{"store no leader", storeError(store.ErrNoLeader, cm, ""), 503, metav1.StatusReasonServiceUnavailable, store.ErrNoLeader.Error(), &metav1.StatusDetails{RetryAfterSeconds: 1}, "1"},
		{"store closed", storeError(store.ErrClosed, cm, ""), 503, metav1.StatusReasonServiceUnavailable, store.ErrClosed.Error(), &metav1.StatusDetails{RetryAfterSeconds: 1}, "1"},
		{"store too large", storeError(store.ErrTooLarge, cm, ""), 413, metav1.StatusReasonRequestEntityTooLarge, "Request entity too large: " + store.ErrTooLarge.Error(), nil, ""},
		{"store deadline", storeError(context.DeadlineExceeded, cm, ""), 504, metav1.StatusReasonTimeout,
			"Timeout: the request timed out: context deadline exceeded", &metav1.StatusDetails{RetryAfterSeconds: 1}, "1"},
		{"store passes a Status through", storeError(fmt.Errorf("plan: %w", errBadRequest("no")), cm, ""), 400, metav1.StatusReasonBadRequest, "no", nil, ""},
	}
	decoder := scheme.Codecs.UniversalDeserializer()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := c.err.(*apierrors.StatusError); !ok && !strings.Contains(c.name, "error") {
				t.Fatalf("%T is not an *apierrors.StatusError", c.err)
			}
			for _, accept := range []string{"application/json", "application/vnd.kubernetes.protobuf"} {
				rec := httptest.NewRecorder()
				r := httptest.NewRequest("GET", "/api/v1/namespaces/default/configmaps", nil)
				r.Header.Set("Accept", accept)
				s.writeError(rec, r, c.err)
				if rec.Code != int(c.code) {
					t.Fatalf("%s: HTTP %d, want %d", accept, rec.Code, c.code)
				}
				if ct := rec.Header().Get("Content-Type"); ct != accept {
					t.Errorf("%s: Content-Type %q", accept, ct)
				}
				if got := rec.Header().Get("Retry-After"); got != c.retryAfter {
					t.Errorf("%s: Retry-After %q, want %q", accept, got, c.retryAfter)
				}
				if accept == "application/json" {
					var tm metav1.TypeMeta
					if err := json.Unmarshal(rec.Body.Bytes(), &tm); err != nil || tm.Kind != "Status" || tm.APIVersion != "v1" {
						t.Errorf("JSON body %s: kind %q apiVersion %q (%v)", rec.Body, tm.Kind, tm.APIVersion, err)
					}
				}
				obj, gvk, err := decoder.Decode(rec.Body.Bytes(), nil, nil)
				if err != nil {
					t.Fatalf("%s: decode %q: %v", accept, rec.Body, err)
				}
				st, ok := obj.(*metav1.Status)
				if !ok || gvk.Kind != "Status" || gvk.Version != "v1" || gvk.Group != "" {
					t.Fatalf("%s: decoded %T as %v", accept, obj, gvk)
				}
				if st.Status != metav1.StatusFailure || st.Code != c.code || st.Reason != c.reason || st.Message != c.msg {
					t.Errorf("%s: status %q code %d reason %q message %q\nwant code %d reason %q message %q",
						accept, st.Status, st.Code, st.Reason, st.Message, c.code, c.reason, c.msg)
				}
				if !reflect.DeepEqual(st.Details, c.details) {
					t.Errorf("%s: details %+v, want %+v", accept, st.Details, c.details)
				}
				// client-go's view of the answer is the same Status
				if se := apierrors.FromObject(st); apierrors.ReasonForError(se) != c.reason {
					t.Errorf("%s: client-go reads reason %q", accept, apierrors.ReasonForError(se))
				}
			}
		})
	}
}
