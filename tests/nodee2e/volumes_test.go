package nodee2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/node/runtime/testimage"
)

// TestConfigMapSecretVolumesAndEnv: a pod with a configMap volume (items,
// defaultMode 0440, an item mode), a secret volume, a downwardAPI volume,
// env from configMapKeyRef, secretKeyRef (one optional and missing),
// fieldRef and resourceFieldRef, envFrom with a prefix, and $(VAR)
// expansion in env and command. Inside the running pod (weir exec):
// the files, their modes and the kubelet's ..data layout, the
// environment; then an edit of the ConfigMap (and of the Secret) reaches
// the mounted file within seconds while the pod runs, as does a new label
// the downwardAPI file, and the secret's files live on a tmpfs. A pod whose secretKeyRef names a key the Secret lacks waits with
// CreateContainerConfigError, and starts once the key is added.
func TestConfigMapSecretVolumesAndEnv(t *testing.T) {
	c, n, _, uids := onePodNode(t)
	kube := c.api.Kube()
	ctx := context.Background()
	cms, secrets := kube.CoreV1().ConfigMaps("default"), kube.CoreV1().Secrets("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config"},
		Data: map[string]string{"greeting": "hello", "mode": "fast", "unused": "x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app-secret"},
		Data: map[string][]byte{"password": []byte("s3cr3t"), "user": []byte("admin")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	grace, yes := int64(1), true
	mode0440, mode0400, mode0600 := int32(0o440), int32(0o400), int32(0o600)
	ref := func(name string) corev1.LocalObjectReference { return corev1.LocalObjectReference{Name: name} }
	field := func(p string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: p}}
	}
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "vol-env", Namespace: "default", Labels: map[string]string{"app": "volenv"}},
		Spec: corev1.PodSpec{NodeName: n.name, TerminationGracePeriodSeconds: &grace,
			Volumes: []corev1.Volume{
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: ref("app-config"),
					DefaultMode: &mode0440, Items: []corev1.KeyToPath{{Key: "greeting", Path: "greet/hello.txt"}, {Key: "mode", Path: "mode", Mode: &mode0600}}}}},
				{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "app-secret", DefaultMode: &mode0400}}},
				{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
					{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.labels"}},
					{Path: "name", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}}}},
			},
			Containers: []corev1.Container{{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
				Command:      []string{"/bin/sh", "-c", "echo 'ARG $(MODE) $$(MODE) $(NOPE)'; sleep 1000"},
				Resources:    corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
				VolumeMounts: []corev1.VolumeMount{{Name: "cfg", MountPath: "/cfg"}, {Name: "sec", MountPath: "/sec"}, {Name: "info", MountPath: "/info"}},
				EnvFrom: []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: ref("app-config")}},
					{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: ref("app-secret")}}},
				Env: []corev1.EnvVar{
					{Name: "MODE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: ref("app-config"), Key: "mode"}}},
					{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: ref("app-secret"), Key: "password"}}},
					{Name: "OPT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: ref("app-secret"), Key: "nope", Optional: &yes}}},
					{Name: "POD_NAME", ValueFrom: field("metadata.name")},
					{Name: "POD_NS", ValueFrom: field("metadata.namespace")},
					{Name: "POD_IP", ValueFrom: field("status.podIP")},
					{Name: "NODE", ValueFrom: field("spec.nodeName")},
					{Name: "SA", ValueFrom: field("spec.serviceAccountName")},
					{Name: "APP", ValueFrom: field("metadata.labels['app']")},
					{Name: "MEM_MI", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
					{Name: "COMBINED", Value: "$(MODE)-$(POD_NAME)-$$(MODE)-$(LATER)"},
					{Name: "LATER", Value: "l"},
				}}}}}
	c.createTyped(t, gvrPods, pod)
	waitFor(t, "vol-env Running", 90*time.Second, func() bool { return c.podRunning(t, "vol-env", uids) })
	p, _ := c.getPod(t, "vol-env")

	wl := &weirCLI{c: c, t: t}
	sh := func(script string) string {
		t.Helper()
		out, errOut, code := wl.run(nil, "exec", "vol-env", "--", "sh", "-c", script)
		if code != 0 {
			t.Fatalf("exec %q: exit %d: %s %s", script, code, out, errOut)
		}
		return out
	}
	env := map[string]string{}
	for _, l := range strings.Split(sh("env"), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			env[k] = v
		}
	}
	for k, want := range map[string]string{"MODE": "fast", "PW": "s3cr3t", "POD_NAME": "vol-env", "POD_NS": "default", "POD_IP": p.Status.PodIP,
		"NODE": n.name, "SA": "default", "APP": "volenv", "MEM_MI": "64", "CFG_greeting": "hello", "CFG_mode": "fast", "CFG_unused": "x",
		"password": "s3cr3t", "user": "admin", "COMBINED": "fast-vol-env-$(MODE)-$(LATER)", "LATER": "l"} {
		if env[k] != want {
			t.Errorf("env %s = %q, want %q", k, env[k], want)
		}
	}
	if _, ok := env["OPT"]; ok || p.Status.PodIP == "" {
		t.Errorf("OPT set (%q) or no pod IP (%q)", env["OPT"], p.Status.PodIP)
	}
	if logs, _, _ := wl.run(nil, "logs", "vol-env"); strings.TrimSpace(logs) != "ARG fast $(MODE) $(NOPE)" {
		t.Errorf("command expansion: %q", logs)
	}

	files := sh(`for f in /cfg/greet/hello.txt /cfg/mode /sec/password /sec/user /info/name; do echo "$f $(busybox stat -L -c %a $f) $(cat $f)"; done
cat /info/labels; echo; ls -a /cfg | busybox tr '\n' ' '; echo; busybox readlink /cfg/..data; busybox readlink /cfg/mode`)
	lines := strings.Split(strings.TrimSpace(files), "\n")
	want := []string{"/cfg/greet/hello.txt 440 hello", "/cfg/mode 600 fast", "/sec/password 400 s3cr3t", "/sec/user 400 admin", "/info/name 644 vol-env",
		`app="volenv"`}
	if len(lines) < len(want)+3 {
		t.Fatalf("files:\n%s", files)
	}
	for i, w := range want {
		if strings.TrimSpace(lines[i]) != strings.TrimSpace(w) {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	if ls := lines[len(want)]; !strings.HasSuffix(strings.TrimSpace(ls), "..data greet mode") {
		t.Errorf("ls -a /cfg: %q", ls)
	}
	if !strings.HasPrefix(lines[len(want)+1], "..20") || lines[len(want)+2] != "..data/mode" {
		t.Errorf("..data layout: %q %q", lines[len(want)], lines[len(want)+1])
	}
	if out, _, code := wl.run(nil, "exec", "vol-env", "--", "sh", "-c", "echo x > /cfg/new"); code == 0 {
		t.Errorf("the configMap volume is writable: %s", out)
	}

	// The secret volume is a tmpfs under a 0700 volumes dir on the node.
	vols := filepath.Join(n.dir, "pods", "pods", string(p.UID), "volumes")
	if st, err := os.Stat(vols); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("volumes dir %s: %v %v", vols, st, err)
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err != nil || !strings.Contains(string(mi), filepath.Join(vols, "sec")+" ") {
		t.Errorf("no mount on %s (%v)", filepath.Join(vols, "sec"), err)
	}

	// An edit of the ConfigMap reaches the running pod within seconds.
	cm, err := cms.Get(ctx, "app-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["mode"], cm.Data["greeting"] = "slow", "bonjour"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	edited := time.Now()
	var got string
	waitDetail(t, "the edited ConfigMap in the pod", 15*time.Second, func() bool {
		got = sh("cat /cfg/mode /cfg/greet/hello.txt")
		return got == "slowbonjour"
	}, func() string { return got })
	t.Logf("the ConfigMap edit reached the pod in %s", time.Since(edited).Round(10*time.Millisecond))
	if m := strings.TrimSpace(sh("busybox stat -L -c %a /cfg/mode")); m != "600" {
		t.Errorf("mode after the update: %s", m)
	}
	// ... and the Secret's too; its environment stays as it started.
	sec, err := secrets.Get(ctx, "app-secret", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data["password"] = []byte("rotated")
	if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDetail(t, "the edited Secret in the pod", 15*time.Second, func() bool {
		got = sh("cat /sec/password; echo; echo $PW")
		return got == "rotated\ns3cr3t\n"
	}, func() string { return got })

	// A new label reaches the downwardAPI file.
	if _, err := kube.CoreV1().Pods("default").Patch(ctx, "vol-env", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"tier":"web"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDetail(t, "the new label in the pod", 15*time.Second, func() bool {
		got = sh("cat /info/labels")
		return got == "app=\"volenv\"\ntier=\"web\""
	}, func() string { return got })

	// A required key the Secret lacks: CreateContainerConfigError until
	// it is added.
	bad := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "missing-key", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: n.name, TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "main", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
				Command: []string{"sleep", "1000"},
				Env: []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: ref("app-secret"), Key: "token"}}}}}}}}
	c.createTyped(t, gvrPods, bad)
	var waiting string
	waitDetail(t, "missing-key waiting with CreateContainerConfigError", 60*time.Second, func() bool {
		bp, _ := c.getPod(t, "missing-key")
		uids.add(string(bp.UID))
		if len(bp.Status.ContainerStatuses) == 1 && bp.Status.ContainerStatuses[0].State.Waiting != nil {
			w := bp.Status.ContainerStatuses[0].State.Waiting
			waiting = w.Reason + ": " + w.Message
		}
		return waiting == "CreateContainerConfigError: couldn't find key token in Secret default/app-secret"
	}, func() string { return waiting })
	sec, err = secrets.Get(ctx, "app-secret", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data["token"] = []byte("t")
	if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "missing-key Running once the key exists", 60*time.Second, func() bool { return c.podRunning(t, "missing-key", uids) })
}
