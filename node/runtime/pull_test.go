package runtime

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"github.com/distribution/reference"
	"github.com/google/uuid"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/tests/testutil"
)

// TestImagePull runs pods from a registry on loopback through the real
// containerd: Never and a bad name fail with the kubelet's reasons; an
// unreachable registry gives ErrImagePull, then ImagePullBackOff, and the
// pod runs once the registry is up; two containers wanting one image
// share one pull; Always pulls again when the tag moved to a new digest.
func TestImagePull(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	reg := newTestRegistry(t, n.archive)
	reg.tag("weir/testimage", "1", reg.base)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String() // reserved for the registry, which starts later
	ln.Close()
	ctx := namespaces.WithNamespace(context.Background(), "weir-n1")
	client, err := containerd.New(n.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	var pods []corev1.Pod
	add := func(name, image string, policy corev1.PullPolicy, containers ...string) {
		p := testPod(name, types.UID(uuid.NewString()))
		p.Spec.Containers[0].Image, p.Spec.Containers[0].ImagePullPolicy = image, policy
		grace := int64(1)
		p.Spec.TerminationGracePeriodSeconds = &grace
		for _, c := range containers {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: image, ImagePullPolicy: policy,
				Command: []string{"/bin/sleep", "1000"}})
		}
		pods = append(pods, p)
		n.rt.Sync(pods)
	}
	waiting := func(pod string) *corev1.ContainerStateWaiting {
		st := n.rep.get("default/" + pod)
		if len(st.ContainerStatuses) == 0 {
			return nil
		}
		return st.ContainerStatuses[0].State.Waiting
	}
	ready := func(pod string) func() bool {
		return func() bool {
			st := n.rep.get("default/" + pod)
			for _, cs := range st.ContainerStatuses {
				if !cs.Ready {
					return false
				}
			}
			return st.Phase == corev1.PodRunning && len(st.ContainerStatuses) > 0
		}
	}

	// Never, image missing: ErrImageNeverPull; a bad name: InvalidImageName.
	add("never", addr+"/weir/testimage:1", corev1.PullNever)
	add("badname", "weir/UPPER:1", corev1.PullIfNotPresent)
	waitFor(t, "ErrImageNeverPull", 30*time.Second, func() bool {
		w := waiting("never")
		return w != nil && w.Reason == reasonErrImageNeverPull && strings.Contains(w.Message, "is not present with pull policy of Never")
	})
	waitFor(t, "InvalidImageName", 30*time.Second, func() bool { w := waiting("badname"); return w != nil && w.Reason == reasonInvalidImageName })

	// The registry is down: ErrImagePull, then ImagePullBackOff; once up, the pod runs.
	add("late", addr+"/weir/testimage:1", corev1.PullIfNotPresent)
	waitFor(t, "ImagePullBackOff after ErrImagePull", 30*time.Second, func() bool {
		n.rep.mu.Lock()
		defer n.rep.mu.Unlock()
		seen := n.rep.waiting["default/late/web"]
		i := slices.Index(seen, reasonErrImagePull)
		return i >= 0 && slices.Contains(seen[i:], reasonImagePullBackOff)
	})
	if w := waiting("late"); w == nil || !strings.Contains(w.Message, addr) {
		t.Errorf("waiting state %+v: want the registry's error", w)
	}
	if w := waiting("never"); w == nil || w.Reason != reasonErrImageNeverPull {
		t.Errorf("Never pulled: %+v", w)
	}
	reg.serve(t, addr)
	waitFor(t, "pod late running after the registry came up", 60*time.Second, ready("late"))

	// Two containers of one pod want a new image: one pull (as many tag
	// resolutions as the pull of a single container's image).
	reg.tag("weir/one", "1", reg.variant(t, "WEIR_VARIANT=one"))
	add("one", addr+"/weir/one:1", corev1.PullIfNotPresent)
	waitFor(t, "pod one running", 60*time.Second, ready("one"))
	reg.tag("weir/two", "1", reg.variant(t, "WEIR_VARIANT=two"))
	reg.mu.Lock()
	reg.slowBlobs = 500 * time.Millisecond // both containers ask while the pull runs
	reg.mu.Unlock()
	add("two", addr+"/weir/two:1", corev1.PullIfNotPresent, "side")
	waitFor(t, "pod two running", 60*time.Second, ready("two"))
	resolves := func(repo string) int {
		return reg.count("HEAD", "/v2/"+repo+"/manifests/1") + reg.count("GET", "/v2/"+repo+"/manifests/1")
	}
	if one, two := resolves("weir/one"), resolves("weir/two"); one == 0 || two != one {
		t.Errorf("tag resolutions: %d for one container, %d for two: want one shared pull", one, two)
	}
	reg.mu.Lock()
	reg.slowBlobs = 0
	reg.mu.Unlock()

	// Always: the tag moved to a new digest is pulled for the next container.
	v1, v2 := reg.variant(t, "WEIR_VARIANT=a1"), reg.variant(t, "WEIR_VARIANT=a2")
	reg.tag("weir/always", "1", v1)
	ref := addr + "/weir/always:1"
	add("always-1", ref, corev1.PullAlways)
	waitFor(t, "pod always-1 running", 60*time.Second, ready("always-1"))
	checkImage := func(pod string, want ocispec.Descriptor, env string) {
		t.Helper()
		img, err := client.GetImage(ctx, ref)
		if err != nil || img.Target().Digest != want.Digest {
			t.Fatalf("local %s: %v %v, want digest %s", ref, img, err, want.Digest)
		}
		p := pods[slices.IndexFunc(pods, func(p corev1.Pod) bool { return p.Name == pod })]
		ctr, err := client.LoadContainer(ctx, containerID(string(p.UID), "web"))
		if err != nil {
			t.Fatal(err)
		}
		spec, err := ctr.Spec(ctx)
		if err != nil || !slices.Contains(spec.Process.Env, env) {
			t.Fatalf("container of %s: env %v (%v), want %s", pod, spec.Process.Env, err, env)
		}
	}
	checkImage("always-1", v1, "WEIR_VARIANT=a1")
	reg.tag("weir/always", "1", v2)
	add("always-2", ref, corev1.PullAlways)
	waitFor(t, "pod always-2 running", 60*time.Second, ready("always-2"))
	checkImage("always-2", v2, "WEIR_VARIANT=a2")

	// A pod deleted while its image is pulled goes at once; its pull (no
	// other pod waits for it) is cancelled.
	reg.mu.Lock()
	reg.slowBlobs = 5 * time.Minute
	reg.mu.Unlock()
	slow := reg.variant(t, "WEIR_VARIANT=slow")
	reg.tag("weir/slow", "1", slow)
	add("slow", addr+"/weir/slow:1", corev1.PullIfNotPresent)
	waitFor(t, "pull of weir/slow under way", 30*time.Second, func() bool {
		return reg.count("GET", "/v2/weir/slow/manifests/"+slow.Digest.String()) > 0
	})
	time.Sleep(200 * time.Millisecond)
	if w := waiting("slow"); w == nil || w.Reason != "ContainerCreating" {
		t.Errorf("pulling: %+v, want ContainerCreating", w)
	}
	start := time.Now()
	n.rt.Sync(pods[:len(pods)-1])
	waitFor(t, "pod slow removed", 30*time.Second, func() bool { return n.rep.removedUID("default/slow") != "" })
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("pod removed %v after its deletion: the pull held it", d)
	}
	waitFor(t, "the pull cancelled", 30*time.Second, func() bool {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		return reg.abandoned > 0
	})
	if _, err := client.GetImage(ctx, addr+"/weir/slow:1"); err == nil {
		t.Errorf("the cancelled pull left the image")
	}
}

// TestPullPolicyDefault: an empty policy gets the API's default.
func TestPullPolicyDefault(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{"weir/testimage": corev1.PullAlways, "weir/testimage:latest": corev1.PullAlways,
		"weir/testimage:1": corev1.PullIfNotPresent, "127.0.0.1:5000/a/b:2": corev1.PullIfNotPresent,
		"busybox@sha256:" + strings.Repeat("ab", 32): corev1.PullIfNotPresent} {
		named, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			t.Fatal(err)
		}
		if got := pullPolicy(&corev1.Container{Image: image}, named); got != want {
			t.Errorf("%s: %s, want %s", image, got, want)
		}
		if got := pullPolicy(&corev1.Container{Image: image, ImagePullPolicy: corev1.PullNever}, named); got != corev1.PullNever {
			t.Errorf("%s with Never: %s", image, got)
		}
	}
}

// TestImagePullSecret pulls from a registry that wants basic auth: a pod
// without pull secrets, or whose secrets hold wrong or other registries'
// credentials, fails with ErrImagePull; one whose dockerconfigjson
// Secret has the registry's credentials (beside a missing Secret, which
// is skipped) runs, as does one with a legacy dockercfg Secret whose key
// names a repository path.
func TestImagePullSecret(t *testing.T) {
	testutil.RequirePrivileged(t)
	n := newTestNode(t)
	reg := newTestRegistry(t, n.archive)
	reg.tag("weir/private", "1", reg.variant(t, "WEIR_VARIANT=private"))
	reg.auth = "puller:s3cret"
	addr := reg.serve(t, "127.0.0.1:0")
	jsonSecret := func(name, key, auth string) *corev1.Secret {
		b := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, key, base64.StdEncoding.EncodeToString([]byte(auth)))
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(b)}}
	}
	objs := &fakeObjects{secrets: map[string]*corev1.Secret{}}
	for _, s := range []*corev1.Secret{
		jsonSecret("regcred", "http://"+addr+"/v2/", "puller:s3cret"),
		jsonSecret("wrong", addr, "puller:nope"),
		jsonSecret("other", "registry.example.com", "puller:s3cret"),
		{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "default"}, Type: corev1.SecretTypeDockercfg,
			Data: map[string][]byte{corev1.DockerConfigKey: []byte(fmt.Sprintf(`{%q:{"username":"puller","password":"s3cret"}}`, addr+"/weir"))}},
	} {
		objs.secrets["default/"+s.Name] = s
	}
	n.rt.cfg.Objects = objs // before the first Sync

	var pods []corev1.Pod
	for name, secrets := range map[string][]string{"anon": nil, "wrong": {"wrong", "other"}, "authed": {"missing", "regcred"}, "legacy": {"legacy"}} {
		p := testPod(name, types.UID(uuid.NewString()))
		// Always: each pod's pull goes to the registry with its own
		// credentials, whatever another pod pulled before
		p.Spec.Containers[0].Image, p.Spec.Containers[0].ImagePullPolicy = addr+"/weir/private:1", corev1.PullAlways
		for _, s := range secrets {
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		pods = append(pods, p)
	}
	n.rt.Sync(pods)
	for _, pod := range []string{"authed", "legacy"} {
		waitFor(t, "pod "+pod+" running", 60*time.Second, func() bool { return n.statusOf(pod, "web").State.Running != nil })
	}
	for _, pod := range []string{"anon", "wrong"} {
		waitFor(t, "pod "+pod+" failing to pull with the registry's 401", 30*time.Second, func() bool {
			w := n.statusOf(pod, "web").State.Waiting
			return w != nil && w.Reason == reasonErrImagePull && strings.Contains(w.Message, "401 Unauthorized")
		})
	}
	time.Sleep(time.Second) // retries (the back-off is 200ms here) do not get it either
	for _, pod := range []string{"anon", "wrong"} {
		if st := n.statusOf(pod, "web"); st.State.Running != nil || st.ContainerID != "" {
			t.Errorf("pod %s got the image without the registry's credentials: %+v", pod, st)
		}
	}
}

// TestKeyringLookup: registry keys match as the kubelet's keyring
// matches them.
func TestKeyringLookup(t *testing.T) {
	cfg := func(name string, auths map[string]string) *corev1.Secret {
		m := map[string]map[string]string{}
		for k, v := range auths {
			m[k] = map[string]string{"username": v, "password": "p"}
		}
		b, _ := json.Marshal(map[string]any{"auths": m})
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: b}}
	}
	secrets := []*corev1.Secret{cfg("a", map[string]string{
		"https://index.docker.io/v1/": "hub", "reg.example.com": "reg", "reg.example.com/team": "team",
		"*.example.org": "glob", "reg.example.com:5000": "port", "http://10.0.0.1:5000/v2/": "ip"})}
	for image, want := range map[string][]string{
		"busybox":                           {"hub"},
		"docker.io/library/busybox":         {"hub"},
		"reg.example.com/app":               {"reg"},
		"reg.example.com/team/app":          {"team", "reg"},
		"reg.example.com:5000/app":          {"port"},
		"a.example.org/app":                 {"glob"},
		"a.b.example.org/app":               nil, // a glob part matches one label
		"10.0.0.1:5000/x":                   {"ip"},
		"10.0.0.1/x":                        nil,
		"other.example.com/reg.example.com": nil,
	} {
		named, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			t.Fatal(err)
		}
		creds, err := credsFor(secrets, named)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range creds {
			got = append(got, c.username)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", image, got, want)
		}
	}
	bad := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte("{")}}
	if _, err := keyring([]*corev1.Secret{bad}); err == nil {
		t.Errorf("a malformed .dockerconfigjson was accepted")
	}
}
