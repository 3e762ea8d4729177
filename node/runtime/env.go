package runtime

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Objects reads the ConfigMaps and Secrets of a pod's namespace that its
// containers take environment variables from (env valueFrom, envFrom).
// A missing object is an apierrors NotFound.
type Objects interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// configError is why a container's configuration could not be made (a
// ConfigMap, Secret or key it needs is missing): the container waits
// with CreateContainerConfigError, as the kubelet's.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

const reasonCreateContainerConfigError = "CreateContainerConfigError"

// envInput is what a container's environment is made from.
type envInput struct {
	pod     *corev1.Pod
	c       *corev1.Container
	podIPs  []string
	hostIPs []string
	objects Objects // nil: no ConfigMap or Secret can be read
	// capacity (cpu, memory) stands in for unset limits in
	// resourceFieldRef, as the node's allocatable does in the kubelet.
	capacity corev1.ResourceList
}

// containerEnv is the container's environment as the kubelet makes it:
// first envFrom's sources in order (keys with their prefix), then env in
// order, each value expanding $(VAR) references to the variables defined
// before it, or taken from its valueFrom source. A later definition
// replaces an earlier one in place. A missing ConfigMap, Secret or key
// that is not optional is a *configError.
func containerEnv(ctx context.Context, in envInput) ([]corev1.EnvVar, error) {
	var out []corev1.EnvVar
	index := map[string]int{}
	set := func(k, v string) {
		if i, ok := index[k]; ok {
			out[i].Value = v
			return
		}
		index[k] = len(out)
		out = append(out, corev1.EnvVar{Name: k, Value: v})
	}
	ns := in.pod.Namespace
	cms := map[string]*corev1.ConfigMap{}
	secrets := map[string]*corev1.Secret{}
	// configMap and secret read each object once per container: every
	// variable then sees the same version of it.
	configMap := func(name string, optional *bool) (*corev1.ConfigMap, bool, error) {
		if cm, ok := cms[name]; ok {
			return cm, cm != nil, nil
		}
		if in.objects == nil {
			return nil, false, &configError{fmt.Errorf("configmap %q: the node reads no ConfigMaps", name)}
		}
		cm, err := in.objects.ConfigMap(ctx, ns, name)
		switch {
		case apierrors.IsNotFound(err) && optional != nil && *optional:
			cms[name] = nil
			return nil, false, nil
		case apierrors.IsNotFound(err):
			return nil, false, &configError{fmt.Errorf("configmap %q not found", name)}
		case err != nil:
			return nil, false, fmt.Errorf("configmap %q: %w", name, err)
		}
		cms[name] = cm
		return cm, true, nil
	}
	secret := func(name string, optional *bool) (*corev1.Secret, bool, error) {
		if s, ok := secrets[name]; ok {
			return s, s != nil, nil
		}
		if in.objects == nil {
			return nil, false, &configError{fmt.Errorf("secret %q: the node reads no Secrets", name)}
		}
		s, err := in.objects.Secret(ctx, ns, name)
		switch {
		case apierrors.IsNotFound(err) && optional != nil && *optional:
			secrets[name] = nil
			return nil, false, nil
		case apierrors.IsNotFound(err):
			return nil, false, &configError{fmt.Errorf("secret %q not found", name)}
		case err != nil:
			return nil, false, fmt.Errorf("secret %q: %w", name, err)
		}
		secrets[name] = s
		return s, true, nil
	}

	for _, ef := range in.c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, ok, err := configMap(ef.ConfigMapRef.Name, ef.ConfigMapRef.Optional)
			if err != nil {
				return nil, err
			}
			if ok {
				for _, k := range sortedKeys(cm.Data) {
					set(ef.Prefix+k, cm.Data[k])
				}
			}
		case ef.SecretRef != nil:
			s, ok, err := secret(ef.SecretRef.Name, ef.SecretRef.Optional)
			if err != nil {
				return nil, err
			}
			if ok {
				for _, k := range sortedKeys(s.Data) {
					set(ef.Prefix+k, string(s.Data[k]))
				}
			}
		}
	}
	for _, e := range in.c.Env {
		v := e.Value
		switch src := e.ValueFrom; {
		case v != "" || src == nil:
			v = expand(v, lookupIn(out, index))
		case src.FieldRef != nil:
			fv, err := FieldPathValue(in.pod, src.FieldRef.FieldPath, in.podIPs, in.hostIPs)
			if err != nil {
				return nil, &configError{fmt.Errorf("env %s: %w", e.Name, err)}
			}
			v = fv
		case src.ResourceFieldRef != nil:
			rv, err := ResourceFieldValue(in.pod, in.c, src.ResourceFieldRef, in.capacity)
			if err != nil {
				return nil, &configError{fmt.Errorf("env %s: %w", e.Name, err)}
			}
			v = rv
		case src.ConfigMapKeyRef != nil:
			ref := src.ConfigMapKeyRef
			cm, ok, err := configMap(ref.Name, ref.Optional)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			val, found := cm.Data[ref.Key]
			if !found {
				if ref.Optional != nil && *ref.Optional {
					continue
				}
				return nil, &configError{fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, ns, ref.Name)}
			}
			v = val
		case src.SecretKeyRef != nil:
			ref := src.SecretKeyRef
			s, ok, err := secret(ref.Name, ref.Optional)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			val, found := s.Data[ref.Key]
			if !found {
				if ref.Optional != nil && *ref.Optional {
					continue
				}
				return nil, &configError{fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, ns, ref.Name)}
			}
			v = string(val)
		default:
			return nil, &configError{fmt.Errorf("env %s: unsupported valueFrom source", e.Name)}
		}
		set(e.Name, v)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lookupIn(env []corev1.EnvVar, index map[string]int) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if i, ok := index[name]; ok {
			return env[i].Value, true
		}
		return "", false
	}
}

// expandCommand expands $(VAR) references in a container's command or
// args with its whole environment, as the kubelet does.
func expandCommand(args []string, env []corev1.EnvVar) []string {
	if len(args) == 0 {
		return args
	}
	index := make(map[string]int, len(env))
	for i, e := range env {
		index[e.Name] = i
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = expand(a, lookupIn(env, index))
	}
	return out
}

// expand applies Kubernetes' variable references to s: $(NAME) becomes
// the value lookup has for NAME, or stays as it is written when lookup
// has none; $$ is an escaped $ (so $$(NAME) is the literal $(NAME)); any
// other $ is kept, as is a $( without its closing parenthesis.
func expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 { // not a reference: "$(" is kept and scanning goes on after it
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// FieldPathValue is the value of a downward API field of pod: metadata
// name, namespace, uid, labels and annotations (whole, as sorted k="v"
// lines, or one key as metadata.labels['KEY']), spec.nodeName,
// spec.serviceAccountName, and status.podIP(s) and status.hostIP(s)
// (podIPs and hostIPs: the pod's and its node's addresses; the plural
// fields are comma separated).
func FieldPathValue(pod *corev1.Pod, path string, podIPs, hostIPs []string) (string, error) {
	if p, key, ok := subscript(path); ok {
		switch p {
		case "metadata.labels":
			return pod.Labels[key], nil
		case "metadata.annotations":
			return pod.Annotations[key], nil
		}
		return "", fmt.Errorf("downward API field %q is not supported", path)
	}
	first := func(ips []string) string {
		if len(ips) > 0 {
			return ips[0]
		}
		return ""
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return first(podIPs), nil
	case "status.podIPs":
		return strings.Join(podIPs, ","), nil
	case "status.hostIP":
		return first(hostIPs), nil
	case "status.hostIPs":
		return strings.Join(hostIPs, ","), nil
	}
	return "", fmt.Errorf("downward API field %q is not supported", path)
}

// subscript splits "metadata.labels['KEY']" into its path and key.
func subscript(path string) (string, string, bool) {
	i := strings.Index(path, "['")
	if i < 0 || !strings.HasSuffix(path, "']") || len(path) < i+4 {
		return "", "", false
	}
	return path[:i], path[i+2 : len(path)-2], true
}

// formatMap is the downward API's form of labels and annotations: k="v"
// lines (the value Go-quoted), sorted by key.
func formatMap(m map[string]string) string {
	lines := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		lines = append(lines, k+"="+strconv.Quote(m[k]))
	}
	return strings.Join(lines, "\n")
}

// ResourceFieldValue is a resourceFieldRef of pod's container named by
// ref.ContainerName (c, when that is empty; c may be nil otherwise): its
// limit or request of cpu, memory or ephemeral-storage divided by the
// divisor (default 1) and rounded up. An unset cpu or memory limit is the
// node's capacity, as the kubelet uses its allocatable; an unset request
// is the limit when that is set (the API's defaulting), else 0.
func ResourceFieldValue(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector, capacity corev1.ResourceList) (string, error) {
	if ref.ContainerName != "" && (c == nil || ref.ContainerName != c.Name) {
		c = nil
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == ref.ContainerName {
				c = &pod.Spec.Containers[i]
			}
		}
		if c == nil {
			return "", fmt.Errorf("resourceFieldRef: no container %q in the pod", ref.ContainerName)
		}
	}
	kind, name, _ := strings.Cut(ref.Resource, ".")
	res := corev1.ResourceName(name)
	if (kind != "limits" && kind != "requests") || (res != corev1.ResourceCPU && res != corev1.ResourceMemory && res != corev1.ResourceEphemeralStorage) {
		return "", fmt.Errorf("resourceFieldRef: resource %q is not supported", ref.Resource)
	}
	limit, hasLimit := c.Resources.Limits[res]
	q := limit
	if kind == "requests" {
		if r, ok := c.Resources.Requests[res]; ok {
			q = r
		} else if !hasLimit {
			q = resource.Quantity{}
		}
	} else if !hasLimit {
		q = resource.Quantity{}
		if res == corev1.ResourceCPU || res == corev1.ResourceMemory {
			q = capacity[res]
		}
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if res == corev1.ResourceCPU {
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
}

// envStrings is env as NAME=VALUE strings.
func envStrings(env []corev1.EnvVar) []string {
	out := make([]string, len(env))
	for i, e := range env {
		out[i] = e.Name + "=" + e.Value
	}
	return out
}
