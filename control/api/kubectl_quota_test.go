package api_test

import (
	"strings"
	"testing"
)

// TestKubectlQuotaAndLimits drives ResourceQuota and LimitRange with the
// real kubectl: create quota, get (server-side table), describe (from
// status.hard and status.used), the exceeded-quota error as kubectl
// prints it, and get / describe of a LimitRange.
func TestKubectlQuotaAndLimits(t *testing.T) {
	k := newKubectlEnv(t)
	out := k.mustKubectl(t, "", "api-resources")
	for _, want := range []string{"limitranges                      limits   v1                                true         LimitRange",
		"resourcequotas                   quota    v1                                true         ResourceQuota"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("kubectl api-resources: no %q in\n%s", want, out)
		}
	}
	k.mustKubectl(t, "", "create", "quota", "compute", "--hard=pods=2,requests.cpu=1,limits.memory=1Gi,configmaps=5")
	k.mustKubectl(t, `apiVersion: v1
kind: LimitRange
metadata: {name: defaults}
spec:
  limits:
  - type: Container
    default: {cpu: 300m, memory: 128Mi}
    defaultRequest: {cpu: 200m, memory: 64Mi}
    max: {cpu: "1"}
`, "apply", "-f", "-")
	k.mustKubectl(t, "", "run", "web", "--image=busybox")

	out = k.mustKubectl(t, "", "get", "quota")
	for _, want := range []string{"NAME", "REQUEST", "LIMIT", "AGE", "compute",
		"configmaps: 0/5, pods: 1/2, requests.cpu: 200m/1", "limits.memory: 128Mi/1Gi"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get quota: no %q in\n%s", want, out)
		}
	}
	out = k.mustKubectl(t, "", "describe", "quota", "compute")
	want := `Name:          compute
Namespace:     default
Resource       Used   Hard
--------       ----   ----
configmaps     0      5
limits.memory  128Mi  1Gi
pods           1      2
requests.cpu   200m   1
`
	if out != want {
		t.Errorf("kubectl describe quota:\n%s\nwant:\n%s", out, want)
	}

	k.mustKubectl(t, "", "run", "web2", "--image=busybox")
	out, ok := k.kubectl(t, "", "run", "web3", "--image=busybox")
	if ok || !strings.Contains(out, `Error from server (Forbidden): pods "web3" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`) {
		t.Errorf("kubectl run over quota: ok=%v\n%s", ok, out)
	}
	out, ok = k.kubectl(t, "", "run", "big", "--image=busybox", "--overrides", `{"spec":{"containers":[{"name":"big","image":"busybox","resources":{"limits":{"cpu":"2"}}}]}}`)
	if ok || !strings.Contains(out, `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`) {
		t.Errorf("kubectl run over the LimitRange: ok=%v\n%s", ok, out)
	}

	out = k.mustKubectl(t, "", "get", "limits")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "CREATED AT") || !strings.Contains(out, "defaults") {
		t.Errorf("kubectl get limits:\n%s", out)
	}
	out = k.mustKubectl(t, "", "describe", "limits", "defaults")
	for _, want := range []string{"Name:       defaults", "Type        Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio",
		"Container   cpu       -    1    200m             300m           -", "Container   memory    -    -    64Mi             128Mi          -"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl describe limits: no %q in\n%s", want, out)
		}
	}
}
