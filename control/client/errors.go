package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StatusError is an error answered by the server. ErrStatus is the
// server's metav1.Status (synthesized from the HTTP status when the body was
// not a Status). It implements apimachinery's APIStatus, so
// k8s.io/apimachinery/pkg/api/errors.IsNotFound(err) and the other IsX
// helpers work on it.
type StatusError struct {
	ErrStatus metav1.Status
}

// Status returns the server's Status.
func (e *StatusError) Status() metav1.Status { return e.ErrStatus }

// Error prints the server's message the way kubectl does, with any causes
// the message does not already mention.
func (e *StatusError) Error() string {
	s := e.ErrStatus
	reason := string(s.Reason)
	if reason == "" {
		reason = fmt.Sprintf("HTTP %d", s.Code)
	}
	msg := s.Message
	if msg == "" {
		msg = "the server reported an error without a message"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Error from server (%s): %s", reason, msg)
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Message == "" || strings.Contains(msg, c.Message) {
				continue
			}
			if c.Field != "" {
				fmt.Fprintf(&b, "\n  %s: %s", c.Field, c.Message)
			} else {
				fmt.Fprintf(&b, "\n  %s", c.Message)
			}
		}
	}
	return b.String()
}

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// decodeError turns a non-2xx response into a *StatusError.
func decodeError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return statusFromBody(resp.StatusCode, resp.Status, body)
}

// statusFromBody decodes a metav1.Status body, or synthesizes one from the
// HTTP status and the body text when the body is not a Status.
func statusFromBody(code int, statusText string, body []byte) *StatusError {
	var s metav1.Status
	if err := json.Unmarshal(body, &s); err == nil && s.Kind == "Status" {
		if s.Code == 0 {
			s.Code = int32(code)
		}
		if s.Reason == "" {
			s.Reason = reasonForCode(code)
		}
		return &StatusError{ErrStatus: s}
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 256 {
		text = text[:256] + "..."
	}
	msg := "the server responded with " + statusText
	if text != "" {
		msg += ": " + text
	}
	return &StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    int32(code),
		Reason:  reasonForCode(code),
		Message: msg,
	}}
}

// reasonForCode maps an HTTP status to the reason Kubernetes uses for it.
func reasonForCode(code int) metav1.StatusReason {
	switch code {
	case http.StatusBadRequest:
		return metav1.StatusReasonBadRequest
	case http.StatusUnauthorized:
		return metav1.StatusReasonUnauthorized
	case http.StatusForbidden:
		return metav1.StatusReasonForbidden
	case http.StatusNotFound:
		return metav1.StatusReasonNotFound
	case http.StatusMethodNotAllowed:
		return metav1.StatusReasonMethodNotAllowed
	case http.StatusConflict:
		return metav1.StatusReasonConflict
	case http.StatusGone:
		return metav1.StatusReasonGone
	case http.StatusRequestEntityTooLarge:
		return metav1.StatusReasonRequestEntityTooLarge
	case http.StatusUnprocessableEntity:
		return metav1.StatusReasonInvalid
	case http.StatusTooManyRequests:
		return metav1.StatusReasonTooManyRequests
	case http.StatusServiceUnavailable:
		return metav1.StatusReasonServiceUnavailable
	case http.StatusGatewayTimeout:
		return metav1.StatusReasonTimeout
	}
	if code >= 500 {
		return metav1.StatusReasonInternalError
	}
	return metav1.StatusReasonUnknown
}
