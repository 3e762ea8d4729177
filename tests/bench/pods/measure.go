package pods

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/node/runtime/testimage"
)

const benchApp = "weirbench-pods"

var gvrPods = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// sample is one pod's timeline on the client's clock (zero: not seen).
type sample struct {
	Node                      string
	UID                       string
	Volumes                   bool // the pod mounts the volume set (podObject)
	Created, Bound, IP, Ready time.Time
	Ctrd                      ctrdSample // the pod's container in containerd
}

// timeline collects the first time each pod was seen in each state.
type timeline struct {
	mu   sync.Mutex
	pods map[string]*sample
}

func (tl *timeline) get(name string) *sample {
	if tl.pods[name] == nil {
		tl.pods[name] = &sample{}
	}
	return tl.pods[name]
}

func (tl *timeline) observe(p *corev1.Pod, at time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := tl.get(p.Name)
	first := func(t *time.Time, cond bool) {
		if cond && t.IsZero() {
			*t = at
		}
	}
	first(&s.Bound, p.Spec.NodeName != "")
	first(&s.IP, p.Status.PodIP != "")
	first(&s.Ready, podReady(p))
	if p.Spec.NodeName != "" {
		s.Node = p.Spec.NodeName
	}
	s.UID = string(p.UID)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
		}
	}
	return false
}

// measure watches the bench pods, creates them at cfg.Rate and waits until
// every one is Ready (or a deadline passes).
func measure(ctx context.Context, api *client.Client, ct *ctrdTimes, cfg Config) ([]sample, error) {
	tl := &timeline{pods: map[string]*sample{}}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w, err := api.Watch(wctx, gvrPods, "default", client.ListOptions{LabelSelector: "app=" + benchApp})
	if err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() {
		defer w.Close()
		for {
			ev, err := w.Next()
			if err != nil {
				return
			}
			at := time.Now()
			var p corev1.Pod
			if ev.Type != client.Bookmark && kruntime.DefaultUnstructuredConverter.FromUnstructured(ev.Object.Object, &p) == nil {
				tl.observe(&p, at)
			}
		}
	})
	if !cfg.NoVolumes {
		if err := createVolumeSources(ctx, api); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	for i := 0; i < cfg.Pods; i++ {
		if cfg.Rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))))
		}
		name := fmt.Sprintf("%s-%03d", benchApp, i)
		vols := !cfg.NoVolumes && i%2 == 1 // interleaved, so both kinds see the same cluster
		obj, err := podObject(name, vols)
		if err != nil {
			return nil, err
		}
		tl.mu.Lock()
		tl.get(name).Volumes = vols
		tl.get(name).Created = time.Now()
		tl.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = api.Create(cctx, gvrPods, "default", obj)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("create pod %s: %w", name, err)
		}
	}
	fmt.Fprintf(cfg.Log, "created %d pods in %v\n", cfg.Pods, time.Since(start).Round(time.Millisecond))
	deadline := time.Now().Add(120 * time.Second)
	for ready := 0; ; time.Sleep(100 * time.Millisecond) {
		tl.mu.Lock()
		ready = 0
		for _, s := range tl.pods {
			if !s.Ready.IsZero() {
				ready++
			}
		}
		tl.mu.Unlock()
		if ready == cfg.Pods {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("only %d of %d pods became Ready within 120 s of the last create; the agents' logs are in the cluster's data dir", ready, cfg.Pods)
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := make([]sample, 0, len(tl.pods))
	for _, s := range tl.pods {
		s.Ctrd = ct.get(s.UID + "-web") // the runtime's container ID: pod UID-container name
		out = append(out, *s)
	}
	return out, nil
}

// The ConfigMap and Secret the volume pods mount.
const (
	benchConfigMap = benchApp + "-config"
	benchSecret    = benchApp + "-secret"
)

// createVolumeSources creates the ConfigMap and Secret the volume pods
// mount (replacing those of an earlier run).
func createVolumeSources(ctx context.Context, api *client.Client) error {
	kc := api.Kube().CoreV1()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: benchConfigMap},
		Data: map[string]string{"app.conf": "listen 8080\n", "level": "info"}}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: benchSecret},
		StringData: map[string]string{"password": "weir-bench", "token": "0123456789abcdef"}}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = kc.ConfigMaps("default").Delete(cctx, benchConfigMap, metav1.DeleteOptions{})
	_ = kc.Secrets("default").Delete(cctx, benchSecret, metav1.DeleteOptions{})
	if _, err := kc.ConfigMaps("default").Create(cctx, cm, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create ConfigMap %s: %w", benchConfigMap, err)
	}
	if _, err := kc.Secrets("default").Create(cctx, sec, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Secret %s: %w", benchSecret, err)
	}
	return nil
}

// podObject is a pod of the test server, no probes: bare, or with vols
// a configMap, a secret, an emptyDir and a projected volume holding a
// service account token (with the cluster CA and the namespace, as
// kube-apiserver's admission adds to every pod).
func podObject(name string, vols bool) (*unstructured.Unstructured, error) {
	grace := int64(1)
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": benchApp}},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "web", Image: testimage.Name, ImagePullPolicy: corev1.PullNever,
				Args: []string{"-udp-echo=", "-tcp-echo="}}}}}
	if vols {
		p.Spec.AutomountServiceAccountToken = new(bool) // the projected volume below is the token
		expiry := int64(3600)
		p.Spec.Volumes = []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: benchConfigMap}}}},
			{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: benchSecret}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiry}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
					Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
					FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
			}}}},
		}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
			{Name: "config", MountPath: "/etc/app"},
			{Name: "secret", MountPath: "/etc/secret", ReadOnly: true},
			{Name: "scratch", MountPath: "/scratch"},
			{Name: "token", MountPath: "/var/run/secrets/weir-bench", ReadOnly: true},
		}
	}
	m, err := kruntime.DefaultUnstructuredConverter.ToUnstructured(p)
	if err != nil {
		return nil, fmt.Errorf("encode pod %s: %w", name, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}
