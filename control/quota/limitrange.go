package quota

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	resourcehelper "k8s.io/component-helpers/resource"
)

// LimitRangerAnnotation records on a pod which defaults LimitRanges set.
const LimitRangerAnnotation = "kubernetes.io/limit-ranger"

// DefaultLimitRangeItem fills a Container item's defaults as kube does:
// default (the limit) from max, defaultRequest from default, then from
// min.
func DefaultLimitRangeItem(it *corev1.LimitRangeItem) {
	if it.Type != corev1.LimitTypeContainer {
		return
	}
	fill := func(dst *corev1.ResourceList, src corev1.ResourceList) {
		for k, v := range src {
			if *dst == nil {
				*dst = corev1.ResourceList{}
			}
			if _, ok := (*dst)[k]; !ok {
				(*dst)[k] = v.DeepCopy()
			}
		}
	}
	fill(&it.Default, it.Max)
	fill(&it.DefaultRequest, it.Default)
	fill(&it.DefaultRequest, it.Min)
}

// DefaultPod is LimitRanger's mutation of a pod being created: for each
// LimitRange in turn, every container and init container gets the
// Container item's default limits and defaultRequest requests for the
// resources it does not set, and the pod is annotated
// kubernetes.io/limit-ranger with what was set. It reports whether the
// pod changed.
func DefaultPod(lrs []corev1.LimitRange, pod *corev1.Pod) bool {
	changed := false
	for i := range lrs {
		var def corev1.ResourceRequirements
		for _, it := range lrs[i].Spec.Limits {
			if it.Type != corev1.LimitTypeContainer {
				continue
			}
			for k, v := range it.DefaultRequest {
				if def.Requests == nil {
					def.Requests = corev1.ResourceList{}
				}
				def.Requests[k] = v.DeepCopy()
			}
			for k, v := range it.Default {
				if def.Limits == nil {
					def.Limits = corev1.ResourceList{}
				}
				def.Limits[k] = v.DeepCopy()
			}
		}
		if len(def.Requests) == 0 && len(def.Limits) == 0 {
			continue
		}
		var notes []string
		for j := range pod.Spec.Containers {
			notes = mergeDefaults(&pod.Spec.Containers[j], def, "container", notes)
		}
		for j := range pod.Spec.InitContainers {
			notes = mergeDefaults(&pod.Spec.InitContainers[j], def, "init container", notes)
		}
		if len(notes) > 0 {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[LimitRangerAnnotation] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
			changed = true
		}
	}
	return changed
}

func mergeDefaults(c *corev1.Container, def corev1.ResourceRequirements, what string, notes []string) []string {
	set := func(dst *corev1.ResourceList, src corev1.ResourceList) []string {
		var names []string
		for k, v := range src {
			if *dst == nil {
				*dst = corev1.ResourceList{}
			}
			if _, ok := (*dst)[k]; !ok {
				(*dst)[k] = v.DeepCopy()
				names = append(names, string(k))
			}
		}
		sort.Strings(names)
		return names
	}
	if reqs := set(&c.Resources.Requests, def.Requests); len(reqs) > 0 {
		notes = append(notes, fmt.Sprintf("%s request for %s %s", strings.Join(reqs, ", "), what, c.Name))
	}
	if lims := set(&c.Resources.Limits, def.Limits); len(lims) > 0 {
		notes = append(notes, fmt.Sprintf("%s limit for %s %s", strings.Join(lims, ", "), what, c.Name))
	}
	return notes
}

// CheckPod is LimitRanger's validation of a pod being created: each
// container and init container against the Container items' min, max
// and maxLimitRequestRatio, and the pod's summed requests and limits
// (component-helpers' PodRequests / PodLimits) against the Pod items'.
// The error of the first LimitRange the pod breaks lists what it breaks,
// with kube-apiserver's words; the caller answers it as a 403 Forbidden.
func CheckPod(lrs []corev1.LimitRange, pod *corev1.Pod) error {
	for i := range lrs {
		var errs []error
		for _, it := range lrs[i].Spec.Limits {
			kind := string(it.Type)
			switch it.Type {
			case corev1.LimitTypeContainer:
				for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
					for j := range cs {
						errs = append(errs, checkBounds(it, kind, cs[j].Resources.Requests, cs[j].Resources.Limits)...)
					}
				}
			case corev1.LimitTypePod:
				reqs := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{ExcludeOverhead: true})
				lims := resourcehelper.PodLimits(pod, resourcehelper.PodResourcesOptions{ExcludeOverhead: true})
				errs = append(errs, checkBounds(it, kind, reqs, lims)...)
			}
		}
		if err := utilerrors.NewAggregate(errs); err != nil {
			return err
		}
	}
	return nil
}

// checkBounds checks one set of requests and limits against an item, in
// kube's order: min, max, then the ratio, each in resource name order.
func checkBounds(it corev1.LimitRangeItem, kind string, reqs, lims corev1.ResourceList) []error {
	var errs []error
	for _, k := range sortedNames(it.Min) {
		if err := minBound(kind, k, it.Min[k], reqs, lims); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedNames(it.Max) {
		if err := maxBound(kind, k, it.Max[k], reqs, lims); err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range sortedNames(it.MaxLimitRequestRatio) {
		if err := ratioBound(kind, k, it.MaxLimitRequestRatio[k], reqs, lims); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// values compares in milli-units when nothing would overflow, else in
// units, as kube does.
func values(req, lim, enforced resource.Quantity) (int64, int64, int64) {
	r, l, e := req.Value(), lim.Value(), enforced.Value()
	if r <= resource.MaxMilliValue && l <= resource.MaxMilliValue && e <= resource.MaxMilliValue {
		return req.MilliValue(), lim.MilliValue(), enforced.MilliValue()
	}
	return r, l, e
}

func minBound(kind string, name corev1.ResourceName, enforced resource.Quantity, reqs, lims corev1.ResourceList) error {
	req, hasReq := reqs[name]
	lim, hasLim := lims[name]
	r, l, e := values(req, lim, enforced)
	switch {
	case !hasReq:
		return fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", name, kind, enforced.String())
	case r < e:
		return fmt.Errorf("minimum %s usage per %s is %s, but request is %s", name, kind, enforced.String(), req.String())
	case hasLim && l < e:
		return fmt.Errorf("minimum %s usage per %s is %s, but limit is %s", name, kind, enforced.String(), lim.String())
	}
	return nil
}

func maxBound(kind string, name corev1.ResourceName, enforced resource.Quantity, reqs, lims corev1.ResourceList) error {
	req, hasReq := reqs[name]
	lim, hasLim := lims[name]
	r, l, e := values(req, lim, enforced)
	switch {
	case !hasLim:
		return fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", name, kind, enforced.String())
	case l > e:
		return fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", name, kind, enforced.String(), lim.String())
	case hasReq && r > e:
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, kind, enforced.String(), req.String())
	}
	return nil
}

func ratioBound(kind string, name corev1.ResourceName, enforced resource.Quantity, reqs, lims corev1.ResourceList) error {
	req, hasReq := reqs[name]
	lim, hasLim := lims[name]
	r, l, _ := values(req, lim, enforced)
	if !hasReq || r == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", name, kind, enforced.String())
	}
	if !hasLim || l == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", name, kind, enforced.String())
	}
	observed := float64(l) / float64(r)
	shown := observed
	max := float64(enforced.Value())
	if enforced.Value() <= resource.MaxMilliValue {
		observed *= 1000
		max = float64(enforced.MilliValue())
	}
	if observed > max {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f", name, kind, enforced.String(), shown)
	}
	return nil
}
