package node

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/weirnet/weir/vocab/manifest"
)

// Annotations of static pods and their mirrors, as the kubelet sets them.
const (
	AnnotationConfigSource = "kubernetes.io/config.source" // "file" on static pods
	AnnotationConfigHash   = "kubernetes.io/config.hash"   // the static pod's hash
	AnnotationConfigMirror = "kubernetes.io/config.mirror" // on mirror pods: the hash they mirror
)

// decodeStaticPods decodes one manifest file (YAML documents or JSON,
// through the node side's one loader, manifest.ParseTyped: unknown fields
// are errors) into the static pods of nodeName. A file is valid or not as
// a whole: any invalid document, or an object that is not a v1 Pod,
// rejects it.
func decodeStaticPods(data []byte, nodeName string) ([]corev1.Pod, error) {
	var objs manifest.Typed
	if err := manifest.ParseTyped(data, &objs); err != nil {
		return nil, err
	}
	if n := objs.Skipped + len(objs.Services) + len(objs.EndpointSlices); n > 0 {
		return nil, fmt.Errorf("%d object(s) that are not v1 Pods: only Pods can be static pods", n)
	}
	pods := make([]corev1.Pod, 0, len(objs.Pods))
	for _, o := range objs.Pods {
		p, err := staticPod(o, nodeName)
		if err != nil {
			return nil, fmt.Errorf("pod %q: %w", o.Name, err)
		}
		pods = append(pods, p)
	}
	return pods, nil
}

// staticPod turns a Pod document into the pod the node runs, as the
// kubelet does: named <name>-<nodeName>, bound to the node, namespace
// "default" unless given, and a UID and config hash derived from the node
// name and the pod's content, so that a restarted agent derives the same
// UID (and adopts the running containers) while a changed pod gets a new
// one (and replaces the old).
func staticPod(p corev1.Pod, nodeName string) (corev1.Pod, error) {
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
