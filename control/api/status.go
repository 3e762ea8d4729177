package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weirnet/weir/control/store"
)

// statusError is an API error: a metav1.Status with its HTTP code.
type statusError struct {
	status     metav1.Status
	retryAfter int // seconds; 0 means no Retry-After header
}

func (e *statusError) Error() string { return e.status.Message }

func newStatus(code int32, reason metav1.StatusReason, msg string) *statusError {
	return &statusError{status: metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  msg,
		Reason:   reason,
		Code:     code,
	}}
}

func (e *statusError) withDetails(kind, name string) *statusError {
	if e.status.Details == nil {
		e.status.Details = &metav1.StatusDetails{}
	}
	e.status.Details.Kind, e.status.Details.Name = kind, name
	return e
}

func errBadRequest(format string, args ...any) *statusError {
	return newStatus(http.StatusBadRequest, metav1.StatusReasonBadRequest, fmt.Sprintf(format, args...))
}

func errUnauthorized() *statusError {
	return newStatus(http.StatusUnauthorized, metav1.StatusReasonUnauthorized,
		"Unauthorized: send 'Authorization: Bearer <token>' with the cluster's token (see the data dir's token file)")
}

func errForbidden(format string, args ...any) *statusError {
	return newStatus(http.StatusForbidden, metav1.StatusReasonForbidden, fmt.Sprintf(format, args...))
}

func errNotFound(res *resource, name string) *statusError {
	return newStatus(http.StatusNotFound, metav1.StatusReasonNotFound,
		fmt.Sprintf("%s %q not found", res.Resource(), name)).withDetails(res.Plural, name)
}

func errNoRoute() *statusError {
	return newStatus(http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
}

func errMethodNotAllowed(method, what string) *statusError {
	return newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
		fmt.Sprintf("the server does not allow method %s on %s", method, what))
}

func errAlreadyExists(res *resource, name string) *statusError {
	return newStatus(http.StatusConflict, metav1.StatusReasonAlreadyExists,
		fmt.Sprintf("%s %q already exists", res.Resource(), name)).withDetails(res.Plural, name)
}

func errConflict(res *resource, name, why string) *statusError {
	return newStatus(http.StatusConflict, metav1.StatusReasonConflict,
		fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", res.Resource(), name, why)).withDetails(res.Plural, name)
}

func errStaleRevision(res *resource, name string) *statusError {
	return errConflict(res, name, "the object has been modified; please apply your changes to the latest version and try again")
}

func errGone(msg string) *statusError {
	return newStatus(http.StatusGone, metav1.StatusReasonExpired, msg)
}

func errTooLarge(limit int64) *statusError {
	return newStatus(http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge,
		fmt.Sprintf("the request body is larger than the limit of %d bytes", limit))
}

func errUnsupportedMediaType(ct string, supported ...string) *statusError {
	return newStatus(http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType,
		fmt.Sprintf("the body of the request was in an unknown format %q; accepted media types: %v", ct, supported))
}

func errNotAcceptable(accept string) *statusError {
	return newStatus(http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable,
		fmt.Sprintf("only application/json and application/yaml responses are served, not %q", accept))
}

func errInternal(err error) *statusError {
	return newStatus(http.StatusInternalServerError, metav1.StatusReasonInternalError,
		"Internal error occurred: "+err.Error())
}

func errUnavailable(msg string) *statusError {
	e := newStatus(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, msg)
	e.retryAfter = 1
	return e
}

func errTimeout(msg string) *statusError {
	e := newStatus(http.StatusGatewayTimeout, metav1.StatusReasonTimeout, msg)
	e.retryAfter = 1
	return e
}

// errInvalid is the 422 answer to a validation failure, one cause per
// field error.
func errInvalid(res *resource, name string, errs field.ErrorList) *statusError {
	e := newStatus(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid,
		fmt.Sprintf("%s %q is invalid: %s", res.Kind, name, errs.ToAggregate().Error()))
	e.withDetails(res.Kind, name)
	e.status.Details.Group = res.Group
	for _, fe := range errs {
		e.status.Details.Causes = append(e.status.Details.Causes, metav1.StatusCause{
			Type:    metav1.CauseType(fe.Type),
			Message: fe.ErrorBody(),
			Field:   fe.Field,
		})
	}
	return e
}

// storeError maps a store error to the Status kube-apiserver would answer.
func storeError(err error, res *resource, name string) *statusError {
	var se *statusError
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
		return newStatus(http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return errTimeout("the request timed out: " + err.Error())
	}
	return errInternal(err)
}

// asStatus turns any error into a statusError (500 when it is not one).
func asStatus(err error) *statusError {
	var se *statusError
	if errors.As(err, &se) {
		return se
	}
	return errInternal(err)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	se := asStatus(err)
	if se.status.Code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", se.status.Code, "err", err)
	}
	if se.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(se.retryAfter))
	}
	s.writeObject(w, r, int(se.status.Code), &se.status)
}
