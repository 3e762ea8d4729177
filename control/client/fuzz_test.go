package client

import (
	"errors"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// FuzzStatusBody decodes arbitrary error bodies of weir's snapshot
// endpoint: the error must carry the HTTP code, a reason and a message.
func FuzzStatusBody(f *testing.F) {
	f.Add(404, []byte(`{"kind":"Status","code":404,"reason":"NotFound","message":"x"}`))
	f.Add(422, []byte(`{"kind":"Status","details":{"causes":[{"field":"a","message":"b"},{}]}}`))
	f.Add(502, []byte("<html>bad gateway</html>"))
	f.Add(500, []byte(`{"kind":"Status","details":null}`))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 400 || code > 599 {
			return
		}
		var se *apierrors.StatusError
		err := statusFromBody(code, body)
		if !errors.As(err, &se) {
			t.Fatalf("%T is not an *apierrors.StatusError", err)
		}
		if se.ErrStatus.Code == 0 {
			t.Fatalf("status %+v lacks a code", se.ErrStatus)
		}
		if !strings.HasPrefix(FormatError(err), "Error from server (") {
			t.Fatalf("printed as %q", FormatError(err))
		}
		if se.Error() == "" && se.ErrStatus.Message != "" {
			t.Fatal("empty message")
		}
	})
}
