package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/streaming/pkg/httpstream"
)

// FormatError is err as the CLI prints it: a server Status anywhere in
// err's chain reads the way kubectl prints it ("Error from server
// (NotFound): pods "x" not found"), with any field causes its message
// does not already mention, one a line; whatever wraps it is kept.
// Other errors print as err.Error().
func FormatError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var as apierrors.APIStatus
	if !errors.As(err, &as) {
		return msg
	}
	s := as.Status()
	reason := string(s.Reason)
	if reason == "" {
		reason = fmt.Sprintf("HTTP %d", s.Code)
	}
	text := s.Message
	if text == "" {
		text = "the server reported an error without a message"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Error from server (%s): %s", reason, text)
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Message == "" || strings.Contains(text, c.Message) {
				continue
			}
			if c.Field != "" {
				fmt.Fprintf(&b, "\n  %s: %s", c.Field, c.Message)
			} else {
				fmt.Fprintf(&b, "\n  %s", c.Message)
			}
		}
	}
	// Replace the Status's own text where the chain printed it, keeping
	// what the wrappers added around it.
	if ie, ok := as.(error); ok && ie.Error() != "" && strings.Contains(msg, ie.Error()) {
		return strings.Replace(msg, ie.Error(), b.String(), 1)
	}
	if msg == "" {
		return b.String()
	}
	return msg + ": " + b.String()
}

// wrapErr turns client-go's errors into the CLI's: a server Status into
// *apierrors.StatusError (client-go's own, so apierrors.IsNotFound and
// friends work); a failed connection into an error that says what to
// check.
func (c *Client) wrapErr(err error) error {
	if err == nil {
		return nil
	}
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return &apierrors.StatusError{ErrStatus: st.Status()}
	}
	// A refused exec upgrade carries the server's Status as its cause.
	var uf *httpstream.UpgradeFailureError
	if errors.As(err, &uf) && errors.As(uf.Cause, &st) {
		return &apierrors.StatusError{ErrStatus: st.Status()}
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (is the weir server at %s running? check --server)", err, c.server)
	}
	return err
}
