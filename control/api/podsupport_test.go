package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodSupportAdmission: a pod, or a workload's pod template, that sets
// a field weir does not implement is refused with kube's 422 Invalid
// Status whose cause names the field; the pods weir's tests and demo
// create still pass.
func TestPodSupportAdmission(t *testing.T) {
	e := newEnv(t)
	const ctr = `"name":"c","image":"weir/testimage:1"`
	pod := func(name, spec string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{` + spec + `}}`
	}
	refused := []struct{ name, spec, field string }{
		{"configmap-vol-user", `"containers":[{` + ctr + `,"volumeMounts":[{"name":"cfg","mountPath":"/cfg"}]}],"volumes":[{"name":"cfg","configMap":{"name":"x","defaultUser":1000}}]`, "spec.volumes[0].configMap.defaultUser"},
		{"emptydir-hugepages", `"containers":[{` + ctr + `}],"volumes":[{"name":"s","emptyDir":{"medium":"HugePages"}}]`, "spec.volumes[0].emptyDir.medium"},
		{"emptydir-disk-size", `"containers":[{` + ctr + `}],"volumes":[{"name":"s","emptyDir":{"sizeLimit":"1Gi"}}]`, "spec.volumes[0].emptyDir.sizeLimit"},
		{"emptydir-mode", `"containers":[{` + ctr + `}],"volumes":[{"name":"s","emptyDir":{"mode":448}}]`, "spec.volumes[0].emptyDir.mode"},
		{"downward-field", `"containers":[{` + ctr + `}],"volumes":[{"name":"s","downwardAPI":{"items":[{"path":"ip","fieldRef":{"fieldPath":"status.podIP"}}]}}]`, "spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath"},
		{"nfs-vol", `"containers":[{` + ctr + `}],"volumes":[{"name":"s","nfs":{"server":"nfs","path":"/var/log"}}]`, "spec.volumes[0].nfs"},
		{"ephemeral-vol", `"containers":[{` + ctr + `}],"volumes":[{"name":"s","ephemeral":{}}]`, "spec.volumes[0].ephemeral"},
		{"filekeyref", `"containers":[{` + ctr + `,"env":[{"name":"A","valueFrom":{"fileKeyRef":{"volumeName":"v","path":"p","key":"k"}}}]}]`, "spec.containers[0].env[0].valueFrom.fileKeyRef"},
		{"init-probe", `"initContainers":[{"name":"i","image":"weir/testimage:1","readinessProbe":{"exec":{"command":["true"]}}}],"containers":[{` + ctr + `}]`, "spec.initContainers[0].readinessProbe"},
		{"init-restartpolicy", `"initContainers":[{"name":"i","image":"weir/testimage:1","restartPolicy":"OnFailure"}],"containers":[{` + ctr + `}]`, "spec.initContainers[0].restartPolicy"},
		{"init-hook", `"initContainers":[{"name":"i","image":"weir/testimage:1","lifecycle":{"postStart":{"sleep":{"seconds":1}}}}],"containers":[{` + ctr + `}]`, "spec.initContainers[0].lifecycle"},
		{"hook-tcp", `"containers":[{` + ctr + `,"lifecycle":{"preStop":{"tcpSocket":{"port":80}}}}]`, "spec.containers[0].lifecycle.preStop.tcpSocket"},
		{"hook-none", `"containers":[{` + ctr + `,"lifecycle":{"postStart":{}}}]`, "spec.containers[0].lifecycle.postStart"},
		{"hook-two", `"containers":[{` + ctr + `,"lifecycle":{"postStart":{"exec":{"command":["true"]},"sleep":{"seconds":1}}}}]`, "spec.containers[0].lifecycle.postStart"},
		{"hook-long-sleep", `"terminationGracePeriodSeconds":5,"containers":[{` + ctr + `,"lifecycle":{"preStop":{"sleep":{"seconds":6}}}}]`, "spec.containers[0].lifecycle.preStop.sleep.seconds"},
		{"stopsignal", `"os":{"name":"linux"},"containers":[{` + ctr + `,"lifecycle":{"stopSignal":"SIGUSR1"}}]`, "spec.containers[0].lifecycle.stopSignal"},
		{"hostport-hostnet", `"hostNetwork":true,"containers":[{` + ctr + `,"ports":[{"containerPort":80,"hostPort":8080}]}]`, "spec.containers[0].ports[0].hostPort"},
		{"pod-securitycontext", `"securityContext":{"runAsUser":1000},"containers":[{` + ctr + `}]`, "spec.securityContext.runAsUser"},
		{"dns-none", `"dnsPolicy":"None","containers":[{` + ctr + `}]`, "spec.dnsConfig"},
		{"dns-none-empty", `"dnsPolicy":"None","dnsConfig":{"searches":["a.example"]},"containers":[{` + ctr + `}]`, "spec.dnsConfig.nameservers"},
		{"dnsconfig-bad-ns", `"dnsConfig":{"nameservers":["one.one"]},"containers":[{` + ctr + `}]`, "spec.dnsConfig.nameservers[0]"},
		{"dnsconfig-four-ns", `"dnsConfig":{"nameservers":["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4"]},"containers":[{` + ctr + `}]`, "spec.dnsConfig.nameservers"},
		{"dnsconfig-option", `"dnsConfig":{"options":[{"value":"2"}]},"containers":[{` + ctr + `}]`, "spec.dnsConfig.options[0]"},
		{"hostaliases-ip", `"hostAliases":[{"ip":"db","hostnames":["db"]}],"containers":[{` + ctr + `}]`, "spec.hostAliases[0].ip"},
		{"hostaliases-name", `"hostAliases":[{"ip":"10.0.0.1","hostnames":["Not_A_Name"]}],"containers":[{` + ctr + `}]`, "spec.hostAliases[0].hostnames[0]"},
		{"pullsecrets", `"imagePullSecrets":[{"name":"reg"}],"containers":[{` + ctr + `}]`, "spec.imagePullSecrets"},
		{"deadline-zero", `"activeDeadlineSeconds":0,"containers":[{` + ctr + `}]`, "spec.activeDeadlineSeconds"},
		{"subpath", `"containers":[{` + ctr + `,"volumeMounts":[{"name":"t","mountPath":"/t","subPath":"a"}]}],"volumes":[{"name":"t","projected":{"sources":[]}}]`, "spec.containers[0].volumeMounts[0].subPath"},
		{"spread-skew", `"topologySpreadConstraints":[{"maxSkew":0,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"}],"containers":[{` + ctr + `}]`, "spec.topologySpreadConstraints[0].maxSkew"},
		{"spread-mindomains", `"topologySpreadConstraints":[{"maxSkew":1,"minDomains":2,"topologyKey":"zone","whenUnsatisfiable":"ScheduleAnyway"}],"containers":[{` + ctr + `}]`, "spec.topologySpreadConstraints[0].minDomains"},
		{"podaffinity-key", `"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{}}]}},"containers":[{` + ctr + `}]`, "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"},
		{"podaffinity-nsselector", `"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"zone","namespaceSelector":{}}]}},"containers":[{` + ctr + `}]`, "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector"},
		{"antiaffinity-weight", `"affinity":{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":101,"podAffinityTerm":{"topologyKey":"zone"}}]}},"containers":[{` + ctr + `}]`, "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"},
		{"runasnonroot", `"containers":[{` + ctr + `,"securityContext":{"runAsNonRoot":true}}]`, "spec.containers[0].securityContext.runAsNonRoot"},
		{"stdin", `"containers":[{` + ctr + `,"stdin":true}]`, "spec.containers[0].stdin"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			st := e.req("POST", "/api/v1/namespaces/default/pods", pod(c.name, c.spec)).status(t, 422, metav1.StatusReasonInvalid)
			checkCause(t, st, c.field, fmt.Sprintf(`Pod "%s" is invalid: %s: `, c.name, c.field))
		})
	}

	// A Deployment's template is held to the same table.
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},
		"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{` + ctr + `,"stdin":true}]}}}}`
	st := e.req("POST", "/apis/apps/v1/namespaces/default/deployments", dep).status(t, 422, metav1.StatusReasonInvalid)
	checkCause(t, st, "spec.template.spec.containers[0].stdin", `Deployment.apps "web" is invalid: spec.template.spec.containers[0].stdin: `)
	job := `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Never",
		"initContainers":[{"name":"i","image":"weir/testimage:1","livenessProbe":{"exec":{"command":["true"]}}}],"containers":[{` + ctr + `}]}}}}`
	st = e.req("POST", "/apis/batch/v1/namespaces/default/jobs", job).status(t, 422, metav1.StatusReasonInvalid)
	checkCause(t, st, "spec.template.spec.initContainers[0].livenessProbe", `Job.batch "j" is invalid: spec.template.spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always`)

	// Partly supported values: NotSupported lists what weir has.
	st = e.req("POST", "/api/v1/namespaces/default/pods", pod("priv", `"containers":[{`+ctr+`,"securityContext":{"privileged":true}}]`)).
		status(t, 422, metav1.StatusReasonInvalid)
	checkCause(t, st, "spec.containers[0].securityContext.privileged", `Pod "priv" is invalid: spec.containers[0].securityContext.privileged: Unsupported value: "true": supported values: "false"`)

	// What weir's tests, demo and docs create passes: probes, resources,
	// env values, ports, a projected volume, scheduling constraints, an
	// empty pod securityContext, a container securityContext weir applies.
	ok := pod("full", `"securityContext":{},"nodeSelector":{"kubernetes.io/os":"linux"},"tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":5}],
		"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchLabels":{"app":"x"}}}],
		"affinity":{"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":10,"podAffinityTerm":{"labelSelector":{"matchLabels":{"app":"db"}},"topologyKey":"topology.kubernetes.io/zone"}}]},
		"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"a","operator":"In","values":["b"]}]}]}},
		"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"x"}},"topologyKey":"kubernetes.io/hostname"}]}},
		"terminationGracePeriodSeconds":5,"activeDeadlineSeconds":600,"hostname":"h","dnsPolicy":"ClusterFirst","restartPolicy":"Always","enableServiceLinks":false,
		"volumes":[{"name":"info","projected":{"defaultMode":420,"sources":[{"downwardAPI":{"items":[{"path":"labels","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.labels"}}]}},
			{"serviceAccountToken":{"path":"token","audience":"vault","expirationSeconds":3600}}]}}],
		"containers":[{`+ctr+`,"command":["/testimage"],"args":["-listen=:8080"],"workingDir":"/","env":[{"name":"MODE","value":"$(UNSET) stays"}],
			"ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],"imagePullPolicy":"IfNotPresent",
			"resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"1","memory":"128Mi"}},
			"volumeMounts":[{"name":"info","mountPath":"/info","readOnly":true}],
			"securityContext":{"runAsUser":1000,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"privileged":false,"capabilities":{"drop":["NET_RAW"]}},
			"livenessProbe":{"httpGet":{"path":"/healthz","port":"http"},"periodSeconds":5},
			"readinessProbe":{"tcpSocket":{"port":8080},"successThreshold":2},
			"startupProbe":{"exec":{"command":["true"]},"failureThreshold":30},
			"lifecycle":{"postStart":{"exec":{"command":["touch","/tmp/started"]}},"preStop":{"httpGet":{"path":"/quit","port":"http"}}}}],
		"initContainers":[{"name":"setup","image":"weir/testimage:1","command":["/testimage","-version"],"volumeMounts":[{"name":"info","mountPath":"/info","readOnly":true}]},
			{"name":"proxy","image":"weir/testimage:1","restartPolicy":"Always","startupProbe":{"tcpSocket":{"port":8081}},"readinessProbe":{"tcpSocket":{"port":8081}},
			"lifecycle":{"preStop":{"sleep":{"seconds":1}}}}]`)
	e.req("POST", "/api/v1/namespaces/default/pods", ok).must(t, 201)
	e.req("POST", "/api/v1/namespaces/default/pods", pod("plain", `"containers":[{`+ctr+`}]`)).must(t, 201)
	e.req("POST", "/api/v1/namespaces/default/pods", pod("dns", `"dnsPolicy":"None","dnsConfig":{"nameservers":["192.0.2.53"],"searches":["corp.example."],
		"options":[{"name":"ndots","value":"2"},{"name":"edns0"}]},"hostAliases":[{"ip":"10.0.0.1","hostnames":["db","db.corp.example"]}],"containers":[{`+ctr+`}]`)).must(t, 201)
}

func checkCause(t *testing.T, st metav1.Status, field, msgPrefix string) {
	t.Helper()
	if !strings.HasPrefix(st.Message, msgPrefix) {
		t.Errorf("message %q, want prefix %q", st.Message, msgPrefix)
	}
	if st.Details == nil || !slices.ContainsFunc(st.Details.Causes, func(c metav1.StatusCause) bool { return c.Field == field }) {
		t.Errorf("causes %+v do not name %s", st.Details, field)
	}
}

// TestPodSupportKubectl: the real kubectl shows the refusal as it shows
// kube-apiserver's, naming the field, and applies what weir supports.
func TestPodSupportKubectl(t *testing.T) {
	k := newKubectlEnv(t)
	bad := `apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: default}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: app
        image: weir/testimage:1
        volumeMounts: [{name: cfg, mountPath: /cfg}]
      volumes:
      - name: cfg
        nfs: {server: nfs, path: /var/log}
`
	out, ok := k.kubectl(t, bad, "apply", "-f", "-")
	want := `The Deployment "app" is invalid: spec.template.spec.volumes[0].nfs: Forbidden: not supported by weir: `
	if ok || !strings.Contains(out, want) {
		t.Errorf("kubectl apply: ok=%v\n%s\nwant it to contain %q", ok, out, want)
	}
	good := strings.Replace(strings.Replace(bad, "nfs: {server: nfs, path: /var/log}", "configMap: {name: app-config, items: [{key: a, path: b, mode: 0440}]}", 1), "name: app,", "name: app2,", 1)
	if out, ok := k.kubectl(t, good, "apply", "-f", "-"); !ok || !strings.Contains(out, "deployment.apps/app2 created") {
		t.Errorf("kubectl apply of a configMap volume: ok=%v\n%s", ok, out)
	}
}

// TestPodSupportEmptyDir: emptyDir volumes on disk and in memory (with a
// sizeLimit), mounted read-write and readOnly, are accepted; a volume
// without a type is stored as an emptyDir, as Kubernetes defaults it; a
// medium weir does not have is refused naming the supported ones.
func TestPodSupportEmptyDir(t *testing.T) {
	e := newEnv(t)
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"scratch"},"spec":{
		"volumes":[{"name":"disk","emptyDir":{}},{"name":"mem","emptyDir":{"medium":"Memory","sizeLimit":"64Mi"}},{"name":"untyped"}],
		"containers":[{"name":"c","image":"weir/testimage:1","volumeMounts":[{"name":"disk","mountPath":"/scratch"},
			{"name":"mem","mountPath":"/mem","readOnly":true},{"name":"untyped","mountPath":"/u"}]}]}}`
	var pod corev1.Pod
	e.req("POST", "/api/v1/namespaces/default/pods", body).must(t, 201).into(t, &pod)
	vols := pod.Spec.Volumes
	if len(vols) != 3 || vols[0].EmptyDir == nil || vols[1].EmptyDir == nil || vols[1].EmptyDir.Medium != corev1.StorageMediumMemory ||
		vols[1].EmptyDir.SizeLimit == nil || vols[1].EmptyDir.SizeLimit.String() != "64Mi" {
		t.Errorf("stored volumes %+v", vols)
	}
	if vols[2].EmptyDir == nil || vols[2].EmptyDir.Medium != "" {
		t.Errorf("a volume without a type was stored as %+v, want emptyDir: {}", vols[2].VolumeSource)
	}

	bad := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad"},"spec":{"volumes":[{"name":"v","emptyDir":{"medium":"Disk"}}],
		"containers":[{"name":"c","image":"weir/testimage:1"}]}}`
	st := e.req("POST", "/api/v1/namespaces/default/pods", bad).status(t, 422, metav1.StatusReasonInvalid)
	checkCause(t, st, "spec.volumes[0].emptyDir.medium", `Pod "bad" is invalid: spec.volumes[0].emptyDir.medium: Unsupported value: "Disk": supported values: "", "Memory"`)
}
