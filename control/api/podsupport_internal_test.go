package api

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/randfill"
)

// podSpecPaths lists every field path of corev1.PodSpec in the table's
// notation, walking structs (inline ones flattened), slices, maps and
// pointers, and stopping at value types (Quantity, IntOrString, Time).
func podSpecPaths() []string {
	var out []string
	var walk func(t reflect.Type, key string, depth int)
	walk = func(t reflect.Type, key string, depth int) {
		if depth > 20 {
			panic("podSpecPaths: recursive type at " + key)
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Kind() == reflect.Slice && elemStruct(t):
			key += "[*]"
			t = t.Elem()
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
		case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct && !stopType(t.Elem()):
			panic("podSpecPaths: map of structs at " + key + ": give the table a notation for it")
		}
		if t.Kind() != reflect.Struct || stopType(t) {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walk(f.Type, key, depth+1)
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			out = append(out, key+"."+name)
			walk(f.Type, key+"."+name, depth+1)
		}
	}
	walk(reflect.TypeFor[corev1.PodSpec](), "spec", 0)
	return out
}

// uncovered are the paths that neither have a rule nor sit under a
// refused one.
func uncovered(paths []string, rules map[string]*podRule) []string {
	var out []string
	for _, p := range paths {
		if rules[p] != nil {
			continue
		}
		covered := false
		for a := parentPath(p); a != ""; a = parentPath(a) {
			if r := rules[a]; r != nil && r.refused != "" {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

// parentPath drops the last segment: "spec.a[*].b" -> "spec.a".
func parentPath(p string) string {
	i := strings.LastIndexByte(p, '.')
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(p[:i], "[*]")
}

// TestPodSupportCoversPodSpec is the Rule of issue #14: every field of
// k8s.io/api's PodSpec is supported or refused. A new field in a newer
// k8s.io/api fails it until the table says what weir does with it.
func TestPodSupportCoversPodSpec(t *testing.T) {
	paths := podSpecPaths()
	if len(paths) < 500 {
		t.Fatalf("walked only %d paths of PodSpec", len(paths))
	}
	if u := uncovered(paths, podRules); len(u) > 0 {
		t.Errorf("%d PodSpec fields are neither supported nor refused in podSupport:\n%s", len(u), strings.Join(u, "\n"))
	}
	// every rule names a real field, and a refused field has no rules below it
	known := map[string]bool{}
	for _, p := range paths {
		known[p] = true
	}
	for _, r := range podSupport {
		if !known[r.path] {
			t.Errorf("rule %q names no PodSpec field", r.path)
		}
		for a := parentPath(r.path); a != ""; a = parentPath(a) {
			if ar := podRules[a]; ar != nil && ar.refused != "" {
				t.Errorf("rule %q sits under refused %q", r.path, a)
			}
		}
	}
	if len(podRules) != len(podSupport) {
		t.Errorf("podSupport has %d rules for %d paths: duplicates", len(podSupport), len(podRules))
	}
}

// TestPodSupportCoverageFailsOnMissingRule proves the coverage check can
// fail: removing any one rule that is not under a refused one (a new
// field without a rule looks the same) is reported.
func TestPodSupportCoverageFailsOnMissingRule(t *testing.T) {
	paths := podSpecPaths()
	for _, drop := range []string{"spec.containers[*].envFrom", "spec.containers[*].livenessProbe.grpc.service",
		"spec.volumes[*].emptyDir", "spec.hostUsers", "spec.securityContext.sysctls"} {
		rules := map[string]*podRule{}
		for k, v := range podRules {
			if k != drop {
				rules[k] = v
			}
		}
		if u := uncovered(paths, rules); !slices.Contains(u, drop) {
			t.Errorf("without the rule for %s, uncovered = %v", drop, u)
		}
	}
	// and a rule under a refused ancestor is not needed
	if u := uncovered([]string{"spec.initContainers[*].envFrom[*].prefix"}, podRules); len(u) != 0 {
		t.Errorf("uncovered %v, want none under the refused spec.initContainers[*].envFrom", u)
	}
}

func TestPodSupportValues(t *testing.T) {
	f, tr, one, big := false, true, int32(1), int32(0o1000)
	c := func(mod func(*corev1.Container)) corev1.PodSpec {
		ctr := corev1.Container{Name: "c", Image: "i"}
		mod(&ctr)
		return corev1.PodSpec{Containers: []corev1.Container{ctr}}
	}
	cases := []struct {
		name string
		spec corev1.PodSpec
		want []string // "type field"
	}{
		{"plain", c(func(*corev1.Container) {}), nil},
		{"empty securityContexts", corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{},
			Containers: []corev1.Container{{Name: "c", Image: "i", SecurityContext: &corev1.SecurityContext{}}}}, nil},
		{"dnsPolicy Bogus", corev1.PodSpec{DNSPolicy: "Bogus", Containers: c(func(*corev1.Container) {}).Containers},
			[]string{"FieldValueNotSupported spec.dnsPolicy"}},
		{"privileged", c(func(c *corev1.Container) {
			c.SecurityContext = &corev1.SecurityContext{Privileged: &tr, AllowPrivilegeEscalation: &f, RunAsUser: new(int64(1000))}
		}), []string{"FieldValueNotSupported spec.containers[0].securityContext.privileged"}},
		{"not privileged", c(func(c *corev1.Container) { c.SecurityContext = &corev1.SecurityContext{Privileged: &f} }), nil},
		{"drop ALL", c(func(c *corev1.Container) {
			c.SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"NET_RAW", "ALL"}}}
		}), []string{"FieldValueForbidden spec.containers[0].securityContext.capabilities.drop[1]"}},
		{"limits", c(func(c *corev1.Container) {
			c.Resources.Limits = corev1.ResourceList{"cpu": {}, "nvidia.com/gpu": {}}
		}), []string{"FieldValueNotSupported spec.containers[0].resources.limits[nvidia.com/gpu]"}},
		{"expansion", c(func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{{Name: "A", Value: "x"}, {Name: "B", Value: "$(A)"}, {Name: "C", Value: "$(D)"}, {Name: "D", Value: "y"}}
			c.Command = []string{"sh", "-c", "echo $(D) $(NOPE)"}
			c.Args = []string{"$$HOME"}
		}), nil},
		{"env sources", c(func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{
				{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels['app']"}}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIPs"}}},
				{Name: "C", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels"}}},
				{Name: "D", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.nvidia.com/gpu"}}},
				{Name: "E", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k", Optional: &tr}}},
				{Name: "F", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{VolumeName: "v", Path: "p", Key: "k"}}},
			}
			c.EnvFrom = []corev1.EnvFromSource{{Prefix: "P_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}}
		}), []string{"FieldValueNotSupported spec.containers[0].env[2].valueFrom.fieldRef.fieldPath",
			"FieldValueNotSupported spec.containers[0].env[3].valueFrom.resourceFieldRef.resource",
			"FieldValueForbidden spec.containers[0].env[5].valueFrom.fileKeyRef"}},
		{"env source shapes", c(func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{
				{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{}},
				{Name: "C", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"},
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}},
			}
			c.EnvFrom = []corev1.EnvFromSource{{Prefix: "P_"}}
		}), []string{"FieldValueInvalid spec.containers[0].envFrom[0]", "FieldValueInvalid spec.containers[0].env[0].valueFrom",
			"FieldValueInvalid spec.containers[0].env[1].valueFrom", "FieldValueInvalid spec.containers[0].env[2].valueFrom"}},
		{"volume sources", corev1.PodSpec{Containers: c(func(*corev1.Container) {}).Containers, Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"},
				Items: []corev1.KeyToPath{{Key: "k", Path: "p", Mode: &one}}, DefaultMode: &one, Optional: &f}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: &big}}},
			{Name: "c", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "l", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
				{Path: "ip", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}},
				{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.memory"}},
				{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}}}},
		}}, []string{"FieldValueInvalid spec.volumes[1].secret.defaultMode", "FieldValueNotSupported spec.volumes[2].downwardAPI.items[1].fieldRef.fieldPath",
			"FieldValueRequired spec.volumes[2].downwardAPI.items[3].resourceFieldRef.containerName"}},
		{"hostPort", c(func(c *corev1.Container) {
			c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080, HostIP: "192.0.2.1"}}
		}), nil},
		{"hostPort on hostNetwork, not containerPort", corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Image: "i",
			Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}}}}, []string{"FieldValueInvalid spec.containers[0].ports[0].hostPort"}},
		{"hostPort on hostNetwork", corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", Image: "i",
			Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}}}}, nil},
		{"mount of no volume", c(func(c *corev1.Container) { c.VolumeMounts = []corev1.VolumeMount{{Name: "x", MountPath: "/x"}} }),
			[]string{"FieldValueNotFound spec.containers[0].volumeMounts[0].name"}},
		{"volume without source", corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v"}}, Containers: c(func(*corev1.Container) {}).Containers},
			[]string{"FieldValueRequired spec.volumes[0]"}},
		{"refused subtree reported once", corev1.PodSpec{Containers: c(func(*corev1.Container) {}).Containers,
			Volumes: []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "/var/log", ReadOnly: true}}}}},
			[]string{"FieldValueForbidden spec.volumes[0].nfs"}},
		{"init container probe", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i",
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 3}}},
			Containers: c(func(*corev1.Container) {}).Containers}, []string{"FieldValueForbidden spec.initContainers[0].livenessProbe"}},
		{"sidecar probe and hook", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i", RestartPolicy: new(corev1.ContainerRestartPolicyAlways),
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}},
			Lifecycle:     &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 1}}}}},
			Containers: c(func(*corev1.Container) {}).Containers}, nil},
		{"init container", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i", Image: "i", Command: []string{"true"}}},
			Containers: c(func(*corev1.Container) {}).Containers}, nil},
		{"init container stdin", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i", Image: "i", Stdin: true}},
			Containers: c(func(*corev1.Container) {}).Containers}, []string{"FieldValueForbidden spec.initContainers[0].stdin"}},
		{"hooks", c(func(c *corev1.Container) {
			c.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 1}},
				PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/q", Port: intstr.FromInt32(80)}}}
		}), nil},
		{"init container hook", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i", Image: "i",
			Lifecycle: &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 1}}}}},
			Containers: c(func(*corev1.Container) {}).Containers}, []string{"FieldValueForbidden spec.initContainers[0].lifecycle"}},
		{"serviceAccount alias", corev1.PodSpec{ServiceAccountName: "a", DeprecatedServiceAccount: "b",
			Containers: c(func(*corev1.Container) {}).Containers}, []string{"FieldValueInvalid spec.serviceAccount"}},
		{"readiness probe thresholds", c(func(c *corev1.Container) {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/"}}, SuccessThreshold: one}
		}), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range validatePodSupport(&tc.spec, field.NewPath("spec")) {
				got = append(got, string(e.Type)+" "+e.Field)
			}
			gotS, wantS := strings.Join(got, "\n"), strings.Join(tc.want, "\n")
			if gotS != wantS {
				t.Errorf("errors:\n%s\nwant:\n%s", gotS, wantS)
			}
		})
	}
}

// TestPodSupportUpdateRatchets: an object stored before a field was
// refused can still be updated (status, metadata, deletion); what the
// update adds is refused.
func TestPodSupportUpdateRatchets(t *testing.T) {
	old := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}},
		Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "/var/log"}}}}}
	same := *old.DeepCopy()
	if errs := validatePodSupportUpdate(&same, &old, field.NewPath("spec")); len(errs) != 0 {
		t.Errorf("unchanged spec: %v", errs)
	}
	more := *old.DeepCopy()
	more.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/ready"}}
	errs := validatePodSupportUpdate(&more, &old, field.NewPath("spec"))
	if len(errs) != 1 || errs[0].Field != "spec.readinessGates" {
		t.Errorf("added readinessGates: %v", errs)
	}
	if errs := validatePodSupportUpdate(&same, nil, field.NewPath("spec")); len(errs) != 1 || errs[0].Field != "spec.volumes[0].nfs" {
		t.Errorf("create: %v", errs)
	}
}

// TestPodSupportRandomSpecs: random PodSpecs (every field filled at
// random) never panic the check, and one with everything set is refused.
func TestPodSupportRandomSpecs(t *testing.T) {
	f := randfill.NewWithSeed(14).NilChance(0.3).NumElements(0, 2)
	for range 300 {
		var a, b corev1.PodSpec
		f.Fill(&a)
		f.Fill(&b)
		validatePodSupport(&a, field.NewPath("spec"))
		validatePodSupportUpdate(&a, &b, field.NewPath("spec"))
	}
	var full corev1.PodSpec
	randfill.NewWithSeed(1).NilChance(0).NumElements(1, 1).Fill(&full)
	if errs := validatePodSupport(&full, field.NewPath("spec")); len(errs) < 20 {
		t.Errorf("a spec with every field set got only %d errors: %v", len(errs), errs)
	}
}
