package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/weirnet/weir/control/api/manifest"
)

// Annotations of static pods and their mirrors, as the kubelet sets them.
const (
	AnnotationConfigSource = "kubernetes.io/config.source" // "file" on static pods
	AnnotationConfigHash   = "kubernetes.io/config.hash"   // the static pod's hash
	AnnotationConfigMirror = "kubernetes.io/config.mirror" // on mirror pods: the hash they mirror
)

// readManifestDir reads the static pods of dir: every regular file not
// starting with ".", sorted by name, each holding one or more Pod
// documents (YAML or JSON). A missing dir holds no pods. Pods that do not
// decode or validate are left out and reported in errs, one error per
// file; err is set only when dir itself cannot be read.
func readManifestDir(dir, nodeName string) (pods []corev1.Pod, errs []error, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest dir %s: %w", dir, err)
	}
	seen := map[string]string{} // namespace/name -> file
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		filePods, err := readManifestFile(path, nodeName)
		if err != nil {
			errs = append(errs, err)
		}
		for _, p := range filePods {
			key := p.Namespace + "/" + p.Name
			if other, dup := seen[key]; dup {
				errs = append(errs, fmt.Errorf("static pod manifest %s: pod %s is already defined in %s; rename one of them", path, key, other))
				continue
			}
			seen[key] = path
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Namespace+"/"+pods[i].Name < pods[j].Namespace+"/"+pods[j].Name })
	return pods, errs, nil
}

// readManifestFile decodes one manifest file into static pods; the valid
// documents of a file are kept even when another one is invalid.
func readManifestFile(path, nodeName string) ([]corev1.Pod, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("static pod manifest %s: %w", path, err)
	}
	pods, err := decodeStaticPods(data, nodeName)
	if err != nil {
		err = fmt.Errorf("static pod manifest %s: %w", path, err)
	}
	return pods, err
}

// decodeStaticPods decodes a manifest's Pod documents into static pods of
// nodeName; invalid documents are skipped and their errors joined.
func decodeStaticPods(data []byte, nodeName string) ([]corev1.Pod, error) {
	objs, err := manifest.DecodeManifest(data)
	if err != nil {
		return nil, err
	}
	var pods []corev1.Pod
	var errs []error
	for i, o := range objs {
		if o.GetAPIVersion() != "v1" || o.GetKind() != "Pod" {
			errs = append(errs, fmt.Errorf("object %d (%s %s): only v1 Pods can be static pods", i+1, o.GetAPIVersion(), o.GetKind()))
			continue
		}
		js, err := json.Marshal(o.Object)
		if err != nil {
			errs = append(errs, fmt.Errorf("pod %q: %w", o.GetName(), err))
			continue
		}
		p, err := staticPod(js, nodeName)
		if err != nil {
			errs = append(errs, fmt.Errorf("pod %q: %w", o.GetName(), err))
			continue
		}
		pods = append(pods, p)
	}
	return pods, errors.Join(errs...)
}

// staticPod turns a Pod document into the pod the node runs, as the
// kubelet does: named <name>-<nodeName>, bound to the node, namespace
// "default" unless given, and a UID and config hash derived from the node
// name and the pod's content, so that a restarted agent derives the same
// UID (and adopts the running containers) while a changed pod gets a new
// one (and replaces the old).
func staticPod(js []byte, nodeName string) (corev1.Pod, error) {
	var p corev1.Pod
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("decode: %w", err)
	}
	if p.Name == "" {
		return p, errors.New("metadata.name is required (generateName is not supported for static pods)")
	}
	if p.Namespace == "" {
		p.Namespace = metav1.NamespaceDefault
	}
	p.Status = corev1.PodStatus{}
	p.UID, p.ResourceVersion, p.GenerateName = "", "", ""
	canonical, err := json.Marshal(&p)
	if err != nil {
		return p, err
	}
	sum := sha256.Sum256(append([]byte(nodeName+"\x00"), canonical...))
	hash := hex.EncodeToString(sum[:16])
	p.Name = p.Name + "-" + nodeName
	p.Spec.NodeName = nodeName
	p.UID = uidOf(sum[:16])
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[AnnotationConfigSource] = "file"
	p.Annotations[AnnotationConfigHash] = hash
	delete(p.Annotations, AnnotationConfigMirror)
	staticDefaults(&p)
	return p, validateStatic(&p)
}

// uidOf formats 16 bytes as a UUID (version 8: custom).
func uidOf(b []byte) types.UID {
	u := append([]byte(nil), b...)
	u[6], u[8] = u[6]&0x0f|0x80, u[8]&0x3f|0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
}

// staticDefaults fills what the API server would default on a create.
func staticDefaults(p *corev1.Pod) {
	if p.Spec.RestartPolicy == "" {
		p.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if p.Spec.DNSPolicy == "" {
		p.Spec.DNSPolicy = corev1.DNSClusterFirst
	}
	if p.Spec.TerminationGracePeriodSeconds == nil {
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		p.Spec.TerminationGracePeriodSeconds = &grace
	}
}

// validateStatic checks what the runtime needs to run the pod.
func validateStatic(p *corev1.Pod) error {
	if errs := validation.IsDNS1123Subdomain(p.Name); len(errs) > 0 {
		return fmt.Errorf("pod name %q (metadata.name + \"-\" + node name) is invalid: %s", p.Name, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(p.Namespace); len(errs) > 0 {
		return fmt.Errorf("metadata.namespace %q is invalid: %s", p.Namespace, strings.Join(errs, "; "))
	}
	if len(p.Spec.Containers) == 0 {
		return errors.New("spec.containers: at least one container is required")
	}
	names := map[string]bool{}
	for i, c := range p.Spec.Containers {
		if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
			return fmt.Errorf("spec.containers[%d].name %q is invalid: %s", i, c.Name, strings.Join(errs, "; "))
		}
		if names[c.Name] {
			return fmt.Errorf("spec.containers[%d].name %q is used twice", i, c.Name)
		}
		names[c.Name] = true
		if strings.TrimSpace(c.Image) == "" {
			return fmt.Errorf("spec.containers[%d].image is required", i)
		}
	}
	switch p.Spec.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		return fmt.Errorf("spec.restartPolicy %q: want Always, OnFailure or Never", p.Spec.RestartPolicy)
	}
	return nil
}

// isMirror says whether p is the API mirror of a static pod.
func isMirror(p *corev1.Pod) bool {
	_, ok := p.Annotations[AnnotationConfigMirror]
	return ok
}

// mirrorOf is the API mirror of static pod p with its latest status.
func mirrorOf(p corev1.Pod, st corev1.PodStatus) corev1.Pod {
	m := *p.DeepCopy()
	m.APIVersion, m.Kind = "v1", "Pod"
	m.Annotations[AnnotationConfigMirror] = p.Annotations[AnnotationConfigHash]
	m.Status = st
	return m
}
