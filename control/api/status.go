package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"

	"github.com/weirnet/weir/control/store"
)

// Every error this package answers is an *apierrors.StatusError, built
// with apimachinery's constructors where one fits, so code, reason,
// message and details are kube-apiserver's. The helpers below only name
// the common cases; writeError encodes the Status.

// groupResource is the qualified resource of res ("deployments.apps").
func groupResource(res *resource) schema.GroupResource {
	return schema.GroupResource{Group: res.Group, Resource: res.Plural}
}

// newStatus is a Status without an apimachinery constructor (406).
func newStatus(code int32, reason metav1.StatusReason, msg string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Message: msg,
		Reason:  reason,
		Code:    code,
	}}
}

func errBadRequest(format string, args ...any) *apierrors.StatusError {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}

// errForbidden is kube's 403 for an operation on res/name that admission
// refuses, with why.
func errForbidden(res *resource, name string, why error) *apierrors.StatusError {
	return apierrors.NewForbidden(groupResource(res), name, why)
}

func errNotFound(res *resource, name string) *apierrors.StatusError {
	return apierrors.NewNotFound(groupResource(res), name)
}

// errNoRoute is kube's 404 for a path that names nothing served.
func errNoRoute() *apierrors.StatusError {
	return apierrors.NewGenericServerResponse(http.StatusNotFound, "", schema.GroupResource{}, "", "", 0, false)
}

// errMethodNotAllowed is kube's 405 for a method the path does not serve.
func errMethodNotAllowed() *apierrors.StatusError {
	return apierrors.NewGenericServerResponse(http.StatusMethodNotAllowed, "", schema.GroupResource{}, "", "", 0, false)
}

func errAlreadyExists(res *resource, name string) *apierrors.StatusError {
	return apierrors.NewAlreadyExists(groupResource(res), name)
}

func errConflict(res *resource, name, why string) *apierrors.StatusError {
	return apierrors.NewConflict(groupResource(res), name, errors.New(why))
}

func errStaleRevision(res *resource, name string) *apierrors.StatusError {
	return errConflict(res, name, "the object has been modified; please apply your changes to the latest version and try again")
}

func errGone(msg string) *apierrors.StatusError {
	return apierrors.NewResourceExpired(msg)
}

// errTooLarge is kube's 413 for a request body over the limit.
func errTooLarge(limit int64) *apierrors.StatusError {
	return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", limit))
}

// errUnsupportedMediaType is kube's 415 for a request body in none of the
// supported media types.
func errUnsupportedMediaType(supported ...string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: negotiation.NewUnsupportedMediaTypeError(supported).(apierrors.APIStatus).Status()}
}

func errInternal(err error) *apierrors.StatusError {
	return apierrors.NewInternalError(err)
}

// errUnavailable is a 503 the client should retry after a second.
func errUnavailable(msg string) *apierrors.StatusError {
	e := apierrors.NewServiceUnavailable(msg)
	e.ErrStatus.Details = &metav1.StatusDetails{RetryAfterSeconds: 1}
	return e
}

// errTimeout is kube's 504 ("Timeout: msg"), to retry after a second.
func errTimeout(msg string) *apierrors.StatusError {
	return apierrors.NewTimeoutError(msg, 1)
}

// errInvalid is the 422 answer to a validation failure, one cause per
// field error.
func errInvalid(res *resource, name string, errs field.ErrorList) *apierrors.StatusError {
	return apierrors.NewInvalid(schema.GroupKind{Group: res.Group, Kind: res.Kind}, name, errs)
}

// storeError maps a store error to the Status kube-apiserver would answer.
func storeError(err error, res *resource, name string) *apierrors.StatusError {
	var se *apierrors.StatusError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(res, name)
	case errors.Is(err, store.ErrExists):
		return errAlreadyExists(res, name)
	case errors.Is(err, store.ErrConflict):
		return errStaleRevision(res, name)
	case errors.Is(err, store.ErrGone):
		return errGone("too old resource version: " + err.Error())
	case errors.Is(err, store.ErrFutureRevision):
		return errTimeout("Too large resource version: the requested revision is newer than this member's; retry")
	case errors.Is(err, store.ErrNoLeader), errors.Is(err, store.ErrClosed):
		return errUnavailable(err.Error())
	case errors.Is(err, store.ErrTooLarge):
		return apierrors.NewRequestEntityTooLargeError(err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return errTimeout("the request timed out: " + err.Error())
	}
	return errInternal(err)
}

// apiStatus adopts any apimachinery API error (an *apierrors.StatusError,
// or another APIStatus such as the negotiation errors) as a StatusError.
func apiStatus(err error) (*apierrors.StatusError, bool) {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se, true
	}
	var as apierrors.APIStatus
	if errors.As(err, &as) {
		return &apierrors.StatusError{ErrStatus: as.Status()}, true
	}
	return nil, false
}

// asStatus turns any error into a StatusError (500 when it is not an API
// error).
func asStatus(err error) *apierrors.StatusError {
	if se, ok := apiStatus(err); ok {
		return se
	}
	return errInternal(err)
}

// fromAPIError is asStatus for errors from decoding a client's input:
// those that are not API errors become 400.
func fromAPIError(err error) *apierrors.StatusError {
	if se, ok := apiStatus(err); ok {
		return se
	}
	return errBadRequest("%s", err.Error())
}

// writeError answers err as a Status in the negotiated encoding, with
// Retry-After from the Status's details as kube-apiserver sets it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := wireStatus(asStatus(err))
	if st.Code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", st.Code, "err", err)
	}
	if st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(st.Details.RetryAfterSeconds)))
	}
	s.writeObject(w, r, int(st.Code), st)
}

// wireStatus is the Status of se as it goes on the wire (a response body
// or a watch ERROR event): kind Status, apiVersion v1, a failure code.
func wireStatus(se *apierrors.StatusError) *metav1.Status {
	st := se.ErrStatus
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	if st.Status == "" {
		st.Status = metav1.StatusFailure
	}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	return &st
}
