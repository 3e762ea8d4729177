package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/weirnet/weir/control/api"
)

// TestImpersonation: the Impersonate-* headers switch the request's user
// when the authenticated user may `impersonate` each thing they name
// (system:masters always may), with kube's groups for the result, and a
// 403 in kube's words otherwise.
func TestImpersonation(t *testing.T) {
	may := map[string]bool{ // resource/name (userextras: extras/key/value) bob may impersonate
		"users/alice": true, "serviceaccounts/ci/builder": true, "groups/devs": true, "uids/u1": true, "userextras/scopes/read": true,
	}
	e := newEnv(t, func(c *api.Config) {
		c.Authenticators = []authenticator.Request{authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
			if r.Header.Get("Authorization") != "Bearer bob-token" {
				return nil, false, nil
			}
			return &authenticator.Response{User: &user.DefaultInfo{Name: "bob"}}, true, nil
		})}
		c.Authorizer = authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
			if a.GetVerb() == "impersonate" {
				if a.GetUser().GetName() != "bob" {
					return authorizer.DecisionNoOpinion, "", nil
				}
				k := a.GetResource() + "/"
				switch a.GetResource() {
				case "serviceaccounts":
					k += a.GetNamespace() + "/"
				case "userextras":
					k += a.GetSubresource() + "/"
				}
				if may[k+a.GetName()] {
					return authorizer.DecisionAllow, "", nil
				}
				return authorizer.DecisionNoOpinion, "", nil
			}
			if a.GetResource() == "selfsubjectreviews" {
				return authorizer.DecisionAllow, "", nil
			}
			return authorizer.DecisionNoOpinion, "", nil
		})
	})
	whoami := func(token string, hdr ...string) (*authnv1.UserInfo, *resp) {
		t.Helper()
		r := e.reqToken(token, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", `{}`, append(hdr, "Content-Type: application/json")...)
		if r.code != 201 {
			return nil, r
		}
		var out authnv1.SelfSubjectReview
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		return &out.Status.UserInfo, r
	}
	for _, c := range []struct {
		name, token string
		hdr         []string
		want        string // "name uid groups extra" or "CODE message"
	}{
		{"masters may impersonate anyone", testToken, []string{"Impersonate-User: carol"}, "carol  [system:authenticated] map[]"},
		{"a user", "bob-token", []string{"Impersonate-User: alice"}, "alice  [system:authenticated] map[]"},
		{"a service account gets its groups", "bob-token", []string{"Impersonate-User: system:serviceaccount:ci:builder"},
			"system:serviceaccount:ci:builder  [system:serviceaccounts system:serviceaccounts:ci system:authenticated] map[]"},
		{"user, group, uid and extra", "bob-token", []string{"Impersonate-User: alice", "Impersonate-Group: devs", "Impersonate-Uid: u1", "Impersonate-Extra-Scopes: read"},
			"alice u1 [devs system:authenticated] map[scopes:[read]]"},
		{"a user bob may not be", "bob-token", []string{"Impersonate-User: carol"},
			`403 users "carol" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope`},
		{"a group bob may not add", "bob-token", []string{"Impersonate-User: alice", "Impersonate-Group: system:masters"},
			`403 groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope`},
		{"an extra bob may not set", "bob-token", []string{"Impersonate-User: alice", "Impersonate-Extra-Scopes: write"},
			`403 userextras.authentication.k8s.io "write" is forbidden: User "bob" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope`},
		{"a group without a user", "bob-token", []string{"Impersonate-Group: devs"}, "500 "},
	} {
		ui, r := whoami(c.token, c.hdr...)
		var got string
		if ui != nil {
			extra := map[string][]string{}
			for k, v := range ui.Extra {
				extra[k] = v
			}
			got = fmt.Sprintf("%s %s %v %v", ui.Username, ui.UID, ui.Groups, extra)
		} else {
			var st struct{ Message string }
			_ = json.Unmarshal(r.body, &st)
			got = fmt.Sprintf("%d %s", r.code, st.Message)
		}
		if !strings.HasPrefix(got, c.want) || (c.want[0] != '5' && got != c.want) {
			t.Errorf("%s:\n got  %q\n want %q", c.name, got, c.want)
		}
	}
}

// TestSelfSubjectRulesReviewNamespace: kube's 400 for a rules review
// without a namespace.
func TestSelfSubjectRulesReviewNamespace(t *testing.T) {
	e := newEnv(t)
	e.req("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", `{"spec":{}}`, "Content-Type: application/json").must(t, 400)
}
