package quota

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Object-count and service resource names kube's quota knows besides
// count/<resource>[.<group>] (corev1 names the compute ones).
const (
	countPrefix = "count/"
)

// legacyCounts are the core resources counted under their plain plural.
var legacyCounts = map[corev1.ResourceName]string{
	corev1.ResourceServices:               "services",
	corev1.ResourceConfigMaps:             "configmaps",
	corev1.ResourceSecrets:                "secrets",
	corev1.ResourceReplicationControllers: "replicationcontrollers",
	corev1.ResourceQuotas:                 "resourcequotas",
	corev1.ResourcePersistentVolumeClaims: "persistentvolumeclaims",
}

// computeResources are the container resources a pod charges: requests.X,
// limits.X and the bare X (its request).
var computeResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

// podNames are the names a pod charges besides count/pods.
var podNames = func() map[corev1.ResourceName]bool {
	m := map[corev1.ResourceName]bool{corev1.ResourcePods: true}
	for _, r := range computeResources {
		m[r], m["requests."+r], m["limits."+r] = true, true, true
	}
	return m
}()

// explicitNames are the compute names a pod's containers must each set
// when a quota tracks them (kube's "must specify" constraint, kept for
// cpu and memory only, as kube keeps it).
var explicitNames = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
}

// ObjectCountName is the count/ name of a resource: count/pods,
// count/deployments.apps.
func ObjectCountName(resource, group string) corev1.ResourceName {
	if group == "" {
		return corev1.ResourceName(countPrefix + resource)
	}
	return corev1.ResourceName(countPrefix + resource + "." + group)
}

// Source is the resource (plural and group) whose objects a quota name
// counts, ok false for a name this package does not know (extended
// resources, hugepages, storage, per-storage-class names).
func Source(name corev1.ResourceName) (resource, group string, ok bool) {
	switch {
	case podNames[name]:
		return "pods", "", true
	case name == corev1.ResourceServicesNodePorts || name == corev1.ResourceServicesLoadBalancers:
		return "services", "", true
	case name == corev1.ResourceRequestsStorage:
		return "persistentvolumeclaims", "", true
	case legacyCounts[name] != "":
		return legacyCounts[name], "", true
	case strings.HasPrefix(string(name), countPrefix):
		rg := strings.TrimPrefix(string(name), countPrefix)
		resource, group, _ = strings.Cut(rg, ".")
		return resource, group, resource != ""
	}
	return "", "", false
}

// IsObjectCount reports whether name counts objects (its values are
// integers).
func IsObjectCount(name corev1.ResourceName) bool {
	switch {
	case name == corev1.ResourcePods, name == corev1.ResourceServicesNodePorts, name == corev1.ResourceServicesLoadBalancers,
		legacyCounts[name] != "", strings.HasPrefix(string(name), countPrefix):
		return true
	}
	return false
}

// Charges reports whether an object of resource in group can charge
// name.
func Charges(resource, group string, name corev1.ResourceName) bool {
	r, g, ok := Source(name)
	return ok && r == resource && g == group
}

// Usage is what one object of resource (plural) in group charges; now
// decides whether a pod past its deletion grace still counts.
func Usage(res, group string, obj runtime.Object, now time.Time) corev1.ResourceList {
	one := *resource1()
	out := corev1.ResourceList{ObjectCountName(res, group): one}
	if group != "" {
		return out
	}
	for name, r := range legacyCounts {
		if r == res {
			out[name] = one
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		if !PodCharged(o, now) {
			return out
		}
		out[corev1.ResourcePods] = one
		reqs := resourcehelper.PodRequests(o, resourcehelper.PodResourcesOptions{})
		lims := resourcehelper.PodLimits(o, resourcehelper.PodResourcesOptions{})
		addCompute(out, reqs, lims)
	case *corev1.Service:
		nodePorts, lbs := int64(0), int64(0)
		switch o.Spec.Type {
		case corev1.ServiceTypeNodePort:
			nodePorts = int64(len(o.Spec.Ports))
		case corev1.ServiceTypeLoadBalancer:
			lbs, nodePorts = 1, int64(len(o.Spec.Ports))
			if a := o.Spec.AllocateLoadBalancerNodePorts; a != nil && !*a {
				nodePorts = 0 // only the ports that name a node port take one
				for _, p := range o.Spec.Ports {
					if p.NodePort != 0 {
						nodePorts++
					}
				}
			}
		}
		out[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(nodePorts, resource.DecimalSI)
		out[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(lbs, resource.DecimalSI)
	case *corev1.PersistentVolumeClaim:
		if q, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			out[corev1.ResourceRequestsStorage] = q.DeepCopy()
		}
	}
	return out
}

// addCompute adds X and requests.X from requests, limits.X from limits.
func addCompute(out, reqs, lims corev1.ResourceList) {
	for _, r := range computeResources {
		if q, ok := reqs[r]; ok {
			out[r], out["requests."+r] = q.DeepCopy(), q.DeepCopy()
		}
		if q, ok := lims[r]; ok {
			out["limits."+r] = q.DeepCopy()
		}
	}
}

// PodCharged reports whether a pod's compute resources (and the pods
// name) count: not once it is Succeeded or Failed, nor past the end of
// its deletion grace period, as in kube.
func PodCharged(p *corev1.Pod, now time.Time) bool {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	if p.DeletionTimestamp != nil && p.DeletionGracePeriodSeconds != nil {
		end := p.DeletionTimestamp.Add(time.Duration(*p.DeletionGracePeriodSeconds) * time.Second)
		if now.After(end) {
			return false
		}
	}
	return true
}

func resource1() *resource.Quantity { return resource.NewQuantity(1, resource.DecimalSI) }

// Recount is the usage of every name of hard in one namespace, zero for
// the names nothing charges; list returns the namespace's objects of a
// resource (it is called once per resource some name of hard counts).
func Recount(hard corev1.ResourceList, list func(resource, group string) ([]runtime.Object, error), now time.Time) (corev1.ResourceList, error) {
	used := corev1.ResourceList{}
	type rg struct{ resource, group string }
	sources := map[rg]bool{}
	for name := range hard {
		used[name] = resource.Quantity{Format: resource.DecimalSI}
		if r, g, ok := Source(name); ok {
			sources[rg{r, g}] = true
		}
	}
	keys := make([]rg, 0, len(sources))
	for k := range sources {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].group+"/"+keys[i].resource < keys[j].group+"/"+keys[j].resource })
	for _, k := range keys {
		objs, err := list(k.resource, k.group)
		if err != nil {
			return nil, fmt.Errorf("quota: count %s: %w", ObjectCountName(k.resource, k.group), err)
		}
		for _, o := range objs {
			for name, q := range Usage(k.resource, k.group, o, now) {
				if cur, tracked := used[name]; tracked {
					cur.Add(q)
					used[name] = cur
				}
			}
		}
	}
	return used, nil
}

// Admit decides whether an object of resource in group, being created
// (old nil) or updated from old to obj, fits the quotas of its
// namespace. It charges the write to each quota that tracks what the
// object uses, setting quotas[i].Status.Used, and returns the indexes of
// the quotas it charged; or an error with kube-apiserver's message
// (the caller answers it as a 403 Forbidden). Updates are charged only
// for Services (the kinds whose usage an update can raise in weir;
// kube's pod evaluator handles updates only for in-place resize, which
// weir does not have), by what they add.
func Admit(quotas []corev1.ResourceQuota, res, group string, obj, old runtime.Object, now time.Time) ([]int, error) {
	if len(quotas) == 0 || (old != nil && !ChargesUpdates(res, group)) {
		return nil, nil
	}
	var interesting []int
	for i := range quotas {
		q := &quotas[i]
		var restricted []corev1.ResourceName
		for name := range q.Status.Hard {
			if Charges(res, group, name) {
				restricted = append(restricted, name)
			}
		}
		if len(restricted) == 0 {
			continue
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			if err := podConstraints(restricted, pod); err != nil {
				return nil, fmt.Errorf("failed quota: %s: %w", q.Name, err)
			}
		}
		var unknown []corev1.ResourceName
		for _, name := range restricted {
			if _, ok := q.Status.Used[name]; !ok {
				unknown = append(unknown, name)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("status unknown for quota: %s, resources: %s", q.Name, joinNames(unknown))
		}
		interesting = append(interesting, i)
	}
	if len(interesting) == 0 {
		return nil, nil
	}
	delta := Usage(res, group, obj, now)
	if old != nil {
		delta = subtractNonNegative(delta, Usage(res, group, old, now))
	}
	for name, v := range delta {
		if v.IsZero() {
			delete(delta, name)
		}
	}
	if len(delta) == 0 {
		return nil, nil
	}
	var charged []int
	for _, i := range interesting {
		q := &quotas[i]
		requested := mask(delta, q.Status.Hard)
		if len(requested) == 0 {
			continue
		}
		newUsed := add(q.Status.Used, requested)
		var exceeded []corev1.ResourceName
		for name := range requested {
			if u, h := newUsed[name], q.Status.Hard[name]; u.Cmp(h) > 0 {
				exceeded = append(exceeded, name)
			}
		}
		if len(exceeded) > 0 {
			only := func(l corev1.ResourceList) corev1.ResourceList {
				out := corev1.ResourceList{}
				for _, n := range exceeded {
					if v, ok := l[n]; ok {
						out[n] = v
					}
				}
				return out
			}
			return nil, fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s",
				q.Name, pretty(only(requested)), pretty(only(q.Status.Used)), pretty(only(q.Status.Hard)))
		}
		q.Status.Used = newUsed
		charged = append(charged, i)
	}
	return charged, nil
}

// ChargesUpdates reports whether Admit charges updates of a resource
// (only Services'), so that callers need not read quotas for the others.
func ChargesUpdates(res, group string) bool { return res == "services" && group == "" }

// podConstraints is kube's backward-compatible rule: when a quota tracks
// cpu or memory (requests, limits or bare), every container and init
// container must set that resource itself.
func podConstraints(restricted []corev1.ResourceName, pod *corev1.Pod) error {
	required := map[corev1.ResourceName]bool{}
	for _, n := range restricted {
		for _, e := range explicitNames {
			if n == e {
				required[n] = true
			}
		}
	}
	if len(required) == 0 {
		return nil
	}
	missing := map[corev1.ResourceName][]string{}
	check := func(cs []corev1.Container) {
		for i := range cs {
			c := &cs[i]
			has := corev1.ResourceList{}
			addCompute(has, c.Resources.Requests, c.Resources.Limits)
			for n := range required {
				if _, ok := has[n]; !ok {
					missing[n] = append(missing[n], c.Name)
				}
			}
		}
	}
	check(pod.Spec.Containers)
	check(pod.Spec.InitContainers)
	if len(missing) == 0 {
		return nil
	}
	names := make([]corev1.ResourceName, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	parts := make([]string, 0, len(names))
	for _, n := range names {
		cs := missing[n]
		sort.Strings(cs)
		parts = append(parts, fmt.Sprintf("%s for: %s", n, strings.Join(dedup(cs), ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(parts, "; "))
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// pretty is kube's name=value,name=value in name order.
func pretty(l corev1.ResourceList) string {
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		v := l[corev1.ResourceName(n)]
		parts[i] = n + "=" + v.String()
	}
	return strings.Join(parts, ",")
}

func joinNames(ns []corev1.ResourceName) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = string(n)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// add is a + b per name (names of either).
func add(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for n, v := range a {
		q := v.DeepCopy()
		if o, ok := b[n]; ok {
			q.Add(o)
		}
		out[n] = q
	}
	for n, v := range b {
		if _, ok := out[n]; !ok {
			out[n] = v.DeepCopy()
		}
	}
	return out
}

// subtractNonNegative is a - b per name of a, never below zero.
func subtractNonNegative(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for n, v := range a {
		q := v.DeepCopy()
		if o, ok := b[n]; ok {
			q.Sub(o)
		}
		if q.Sign() < 0 {
			q = resource.Quantity{Format: q.Format}
		}
		out[n] = q
	}
	return out
}

// mask keeps the names of l that keep has.
func mask(l, keep corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for n, v := range l {
		if _, ok := keep[n]; ok {
			out[n] = v.DeepCopy()
		}
	}
	return out
}

// Equal reports whether two resource lists have the same names and
// values.
func Equal(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for n, v := range a {
		o, ok := b[n]
		if !ok || v.Cmp(o) != 0 {
			return false
		}
	}
	return true
}
