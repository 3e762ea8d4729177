package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/weirnet/weir/control/api"
)

// TestProfiling: /debug/pprof/ serves Go's profiles to a caller allowed
// `get` on the non-resource URL (system:masters here), 403 to others, 404
// for a profile that does not exist.
func TestProfiling(t *testing.T) {
	e := newEnv(t, func(c *api.Config) {
		c.Authenticators = []authenticator.Request{authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
			if r.Header.Get("Authorization") != "Bearer bob-token" {
				return nil, false, nil
			}
			return &authenticator.Response{User: &user.DefaultInfo{Name: "bob"}}, true, nil
		})}
		c.Authorizer = authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
			return authorizer.DecisionNoOpinion, "", nil
		})
	})
	if r := e.reqToken(testToken, "GET", "/debug/pprof/heap?debug=1", ""); r.code != 200 || !strings.Contains(string(r.body), "heap profile") {
		t.Fatalf("heap profile as system:masters: %d %.200s", r.code, r.body)
	}
	if r := e.reqToken(testToken, "GET", "/debug/pprof/", ""); r.code != 200 || !strings.Contains(string(r.body), "goroutine") {
		t.Fatalf("profile index: %d %.200s", r.code, r.body)
	}
	if r := e.reqToken(testToken, "GET", "/debug/pprof/nosuch", ""); r.code != 404 {
		t.Fatalf("unknown profile: %d %.200s", r.code, r.body)
	}
	if r := e.reqToken("bob-token", "GET", "/debug/pprof/heap?debug=1", ""); r.code != 403 || !strings.Contains(string(r.body), `cannot get path \"/debug/pprof/heap\"`) {
		t.Fatalf("heap profile as bob: %d %.300s", r.code, r.body)
	}
}
