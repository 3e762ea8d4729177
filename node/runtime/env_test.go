package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B": "b$(A)", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"$(A)", "a"},
		{"x$(A)y$(A)z", "xayaz"},
		{"$(B)", "b$(A)"}, // values are not expanded again
		{"$(EMPTY)|", "|"},
		{"$(NOPE)", "$(NOPE)"}, // unknown: kept as written
		{"$$(A)", "$(A)"},      // escaped
		{"$$$(A)", "$a"},
		{"$$", "$"},
		{"$$$$", "$$"},
		{"$", "$"},
		{"a$", "a$"},
		{"$A", "$A"},
		{"$(A", "$(A"}, // unterminated
		{"$($(A)", "$($(A)"},
		{"$()", "$()"},
		{"$(A)$(", "a$("},
		{"100$ and $(A)", "100$ and a"},
		{"é$(A)ü", "éaü"},
	} {
		if got := expand(tc.in, lookup); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type fakeObjects struct {
	cms     map[string]*corev1.ConfigMap
	secrets map[string]*corev1.Secret
	reads   int
}

func (f *fakeObjects) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	f.reads++
	if cm, ok := f.cms[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (f *fakeObjects) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	f.reads++
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func TestContainerEnv(t *testing.T) {
	yes := true
	objs := &fakeObjects{
		cms: map[string]*corev1.ConfigMap{"ns/cfg": {Data: map[string]string{"mode": "fast", "level": "3", "B": "from-cm"},
			BinaryData: map[string][]byte{"bin": {1}}}},
		secrets: map[string]*corev1.Secret{"ns/sec": {Data: map[string][]byte{"password": []byte("s3cr=t"), "user": []byte("u")}}},
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u-1",
		Labels: map[string]string{"app": "web", "tier": "a\"b"}, Annotations: map[string]string{"x/y": "z"}},
		Spec: corev1.PodSpec{NodeName: "n1", ServiceAccountName: "sa", Containers: []corev1.Container{{Name: "c",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"memory": resource.MustParse("64Mi"), "cpu": resource.MustParse("250m")}},
			EnvFrom: []corev1.EnvFromSource{
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
				{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: &yes}},
			},
			Env: []corev1.EnvVar{
				{Name: "A", Value: "1"},
				{Name: "B", Value: "$(A)-$(C)-$$(A)"}, // C is defined later: kept
				{Name: "C", Value: "3"},
				{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "mode"}}},
				{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "password"}}},
				{Name: "OPT_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "nope", Optional: &yes}}},
				{Name: "OPT_OBJ", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Key: "k", Optional: &yes}}},
				{Name: "NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
				{Name: "UID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
				{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
				{Name: "ANN", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['x/y']"}}},
				{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
				{Name: "SA", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
				{Name: "PODIP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
				{Name: "PODIPS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIPs"}}},
				{Name: "HOSTIP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
				{Name: "HOSTIPS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIPs"}}},
				{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
				{Name: "CPU", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}},
				{Name: "CPU_M", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "requests.cpu", Divisor: resource.MustParse("1m")}}},
				{Name: "NODE_MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "requests.ephemeral-storage"}}},
				{Name: "ALL", Value: "$(S_user)@$(NODE):$(MODE)"},
				{Name: "A", Value: "again"}, // a redefinition replaces in place
			},
		}}},
	}
	env, err := containerEnv(context.Background(), envInput{pod: pod, c: &pod.Spec.Containers[0], podIPs: []string{"10.1.0.5"},
		hostIPs: []string{"192.168.1.2", "fd00::2"}, objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(envStrings(env), "\n")
	want := strings.Join([]string{
		"B=1-$(C)-$(A)", "level=3", "mode=fast", "S_password=s3cr=t", "S_user=u",
		"A=again", "C=3", "MODE=fast", "PW=s3cr=t", "NAME=p", "NS=ns", "UID=u-1", "APP=web", "ANN=z", "NODE=n1", "SA=sa",
		"PODIP=10.1.0.5", "PODIPS=10.1.0.5", "HOSTIP=192.168.1.2", "HOSTIPS=192.168.1.2,fd00::2",
		"MEM=64", "CPU=1", "CPU_M=250", "NODE_MEM=0", "ALL=u@n1:fast",
	}, "\n")
	if got != want {
		t.Errorf("env:\n%s\nwant:\n%s", got, want)
	}
	if objs.reads != 3 { // cfg, sec, gone: each object read once
		t.Errorf("%d object reads, want 3", objs.reads)
	}
	if args := expandCommand([]string{"echo", "$(MODE)", "$(A)", "$$(MODE)", "$(UNSET)"}, env); strings.Join(args, " ") != "echo fast again $(MODE) $(UNSET)" {
		t.Errorf("args = %q", args)
	}

	// missing required objects and keys: CreateContainerConfigError
	for _, tc := range []struct {
		name string
		env  corev1.EnvVar
		ef   []corev1.EnvFromSource
		msg  string
	}{
		{name: "missing key", env: corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "nope"}}}, msg: "couldn't find key nope in ConfigMap ns/cfg"},
		{name: "missing secret key", env: corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "nope"}}}, msg: "couldn't find key nope in Secret ns/sec"},
		{name: "missing secret", env: corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "nosec"}, Key: "k"}}}, msg: `secret "nosec" not found`},
		{name: "missing envFrom", ef: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}},
			msg: `configmap "gone" not found`},
		{name: "unknown field", env: corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.hostname"}}},
			msg: `env X: downward API field "spec.hostname" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := corev1.Container{Name: "c", EnvFrom: tc.ef}
			if tc.env.Name != "" {
				c.Env = []corev1.EnvVar{tc.env}
			}
			_, err := containerEnv(context.Background(), envInput{pod: pod, c: &c, objects: objs})
			var ce *configError
			if !errors.As(err, &ce) || err.Error() != tc.msg {
				t.Errorf("err = %v (%T), want configError %q", err, err, tc.msg)
			}
		})
	}
}

func TestFieldPathValueMaps(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"b": "2", "a": "x\"y\n"}}}
	got, err := FieldPathValue(pod, "metadata.labels", nil, nil)
	if want := "a=\"x\\\"y\\n\"\nb=\"2\""; err != nil || got != want {
		t.Errorf("labels = %q, %v; want %q", got, err, want)
	}
	if got, err := FieldPathValue(pod, "metadata.annotations", nil, nil); err != nil || got != "" {
		t.Errorf("no annotations = %q, %v", got, err)
	}
	if got, err := FieldPathValue(pod, "metadata.labels['nope']", nil, nil); err != nil || got != "" {
		t.Errorf("missing label = %q, %v", got, err)
	}
}
