package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestConnectionRefusedSaysWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(Config{Server: "http://" + addr, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "default", "x")
	if err == nil || !strings.Contains(err.Error(), "is the weir server at http://"+addr+" running? check --server") {
		t.Errorf("err = %v, want a hint to check the server", err)
	}
}

func TestFormatErrorPrintsLikeKubectl(t *testing.T) {
	invalid := &apierrors.StatusError{ErrStatus: metav1.Status{Code: 422, Reason: metav1.StatusReasonInvalid, Message: `Service "x" is invalid`,
		Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{
			{Field: "spec.ports[0].port", Message: "must be between 1 and 65535"},
			{Field: "metadata.name", Message: "is invalid"}, // already in the message: not repeated
		}}}}
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "p")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{invalid, "Error from server (Invalid): Service \"x\" is invalid\n  spec.ports[0].port: must be between 1 and 65535"},
		{notFound, `Error from server (NotFound): pods "p" not found`},
		{fmt.Errorf("delete pod p: %w", notFound), `delete pod p: Error from server (NotFound): pods "p" not found`},
		{&apierrors.StatusError{ErrStatus: metav1.Status{Code: 502}}, "Error from server (HTTP 502): the server reported an error without a message"},
		{errors.New("plain"), "plain"},
		{nil, ""},
	} {
		if got := FormatError(tt.err); got != tt.want {
			t.Errorf("FormatError(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	c := &Client{server: "https://x"}
	var se *apierrors.StatusError
	if got := c.wrapErr(fmt.Errorf("get: %w", notFound)); !errors.As(got, &se) || se != notFound || !apierrors.IsNotFound(got) {
		t.Errorf("wrapErr(NotFound) = %#v", got)
	}
	// Another APIStatus (not a StatusError) becomes one.
	other := apiStatusOnly{notFound.ErrStatus}
	if got := c.wrapErr(other); !errors.As(got, &se) || !apierrors.IsNotFound(got) {
		t.Errorf("wrapErr(APIStatus) = %#v", got)
	}
}

// apiStatusOnly is an APIStatus that is not an *apierrors.StatusError.
type apiStatusOnly struct{ s metav1.Status }

func (a apiStatusOnly) Error() string         { return a.s.Message }
func (a apiStatusOnly) Status() metav1.Status { return a.s }
