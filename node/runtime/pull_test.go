package runtime

import (
	"context"
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
