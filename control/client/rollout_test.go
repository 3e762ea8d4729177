package client

import (
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deploy(gen, observed int64, replicas, updated, total, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: gen},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas},
		Status: appsv1.DeploymentStatus{ObservedGeneration: observed, UpdatedReplicas: updated, Replicas: total,
			AvailableReplicas: available, Conditions: conds}}
}

func TestDeploymentRolloutStatus(t *testing.T) {
	progressing := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated"}
	deadline := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
		Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "web-abc" has timed out progressing.`}
	cases := []struct {
		name string
		d    *appsv1.Deployment
		msg  string
		done bool
	}{
		{"spec not observed", deploy(2, 1, 3, 3, 3, 3), "Waiting for deployment spec update to be observed...", false},
		{"updating", deploy(2, 2, 3, 1, 4, 3, progressing), `Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`, false},
		{"old pending termination", deploy(2, 2, 3, 3, 4, 3), `Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...`, false},
		{"not available", deploy(2, 2, 3, 3, 3, 1), `Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...`, false},
		{"done", deploy(2, 2, 3, 3, 3, 3, progressing), `deployment "web" successfully rolled out`, true},
		{"scaled to zero", deploy(1, 1, 0, 0, 0, 0), `deployment "web" successfully rolled out`, true},
	}
	for _, tc := range cases {
		msg, done, err := DeploymentRolloutStatus(tc.d)
		if err != nil || msg != tc.msg || done != tc.done {
			t.Errorf("%s: %q done=%v err=%v, want %q done=%v", tc.name, msg, done, err, tc.msg, tc.done)
		}
	}
	_, _, err := DeploymentRolloutStatus(deploy(2, 2, 3, 1, 3, 2, deadline))
	if !errors.Is(err, ErrProgressDeadline) || !strings.Contains(err.Error(), "timed out progressing") {
		t.Errorf("progress deadline exceeded: %v", err)
	}
}

func TestParseWorkloadRef(t *testing.T) {
	ok := []struct {
		args []string
		want string
	}{
		{[]string{"deployment/web"}, "deployment.apps/web"},
		{[]string{"deploy/web"}, "deployment.apps/web"},
		{[]string{"deployments/web"}, "deployment.apps/web"},
		{[]string{"Deployment.apps/web"}, "deployment.apps/web"},
		{[]string{"deployment", "web"}, "deployment.apps/web"},
		{[]string{"rs/web-1"}, "replicaset.apps/web-1"},
		{[]string{"replicasets", "web-1"}, "replicaset.apps/web-1"},
	}
	for _, tc := range ok {
		r, err := ParseWorkloadRef(tc.args, "deployments", "replicasets")
		if err != nil || r.String() != tc.want {
			t.Errorf("%q: %v, %v; want %s", tc.args, r, err, tc.want)
		}
	}
	bad := []struct {
		args    []string
		allowed string
		want    string
	}{
		{nil, "deployments", "name the object, e.g. deployment/web"},
		{[]string{"deployment/"}, "deployments", `invalid name ""`},
		{[]string{"deployment/a/b"}, "deployments", `invalid name "a/b"`},
		{[]string{"deployment", "a", "b"}, "deployments", "want one TYPE/NAME"},
		{[]string{"pods/x"}, "deployments", `type "pods" is not supported here (supported: deployments)`},
		{[]string{"rs/x"}, "deployments", `type "rs" is not supported here`},
	}
	for _, tc := range bad {
		_, err := ParseWorkloadRef(tc.args, tc.allowed)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

// FuzzParseWorkloadRef: any arguments give a reference with a non-empty
// name and an allowed type, or an error; never a panic.
func FuzzParseWorkloadRef(f *testing.F) {
	for _, s := range []string{"deployment/web", "deploy web", "rs/x", "pods/x", "/", "a/b/c", "Deployment.apps/w", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Fields(s)
		r, err := ParseWorkloadRef(args, "deployments", "replicasets")
		if err != nil {
			return
		}
		if r.Name == "" || strings.Contains(r.Name, "/") || (r.GVR != DeploymentsGVR && r.GVR != ReplicaSetsGVR) {
			t.Fatalf("%q parsed to %+v", args, r)
		}
	})
}
