package api

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weirnet/weir/control/quota"
	"github.com/weirnet/weir/vocab/manifest"
)

// quotaNamesNote says which quota names weir counts.
const quotaNamesNote = "not supported by weir: a quota counts objects (pods, services, configmaps, secrets, " +
	"replicationcontrollers, resourcequotas, persistentvolumeclaims, services.nodeports, services.loadbalancers, " +
	"count/<resource>[.<group>] of a served resource), cpu, memory and ephemeral-storage (bare, requests. or limits.) and requests.storage " +
	"(of persistentvolumeclaims; not per StorageClass)"

// validateResourceQuota checks a ResourceQuota: every name of spec.hard
// is one weir counts, values are non-negative (integers for object
// counts), and scopes, which weir does not apply, are refused.
func validateResourceQuota(q, _ *corev1.ResourceQuota) field.ErrorList {
	spec := field.NewPath("spec")
	errs := validateQuotaList(q.Spec.Hard, spec.Child("hard"), true)
	if len(q.Spec.Scopes) > 0 {
		errs = append(errs, field.Forbidden(spec.Child("scopes"), "not supported by weir: quota scopes are not applied yet; a quota counts every object of its namespace"))
	}
	if q.Spec.ScopeSelector != nil {
		errs = append(errs, field.Forbidden(spec.Child("scopeSelector"), "not supported by weir: quota scopes are not applied yet; a quota counts every object of its namespace"))
	}
	status := field.NewPath("status")
	errs = append(errs, validateQuotaList(q.Status.Hard, status.Child("hard"), false)...)
	return append(errs, validateQuotaList(q.Status.Used, status.Child("used"), false)...)
}

// validateQuotaList checks the names (when names) and values of a
// quota's resource list.
func validateQuotaList(l corev1.ResourceList, path *field.Path, names bool) field.ErrorList {
	var errs field.ErrorList
	for _, n := range sortedResourceNames(l) {
		p := path.Key(string(n))
		if names {
			errs = append(errs, validateQuotaName(n, p)...)
		}
		v := l[n]
		if v.Sign() < 0 {
			errs = append(errs, field.Invalid(p, v.String(), "must be greater than or equal to 0"))
		}
		if quota.IsObjectCount(n) && v.MilliValue()%1000 != 0 {
			errs = append(errs, field.Invalid(p, v.String(), "must be an integer"))
		}
	}
	return errs
}

func validateQuotaName(n corev1.ResourceName, p *field.Path) field.ErrorList {
	res, group, ok := quota.Source(n)
	if !ok {
		return field.ErrorList{field.Forbidden(p, quotaNamesNote)}
	}
	if _, legacy := map[corev1.ResourceName]bool{corev1.ResourceReplicationControllers: true, corev1.ResourcePersistentVolumeClaims: true}[n]; legacy {
		return nil // kube's standard names; counted (as zero) whether weir serves the kind or not
	}
	for _, k := range manifest.Kinds() {
		if k.Plural == res && k.Group == group {
			if !k.Namespaced {
				return field.ErrorList{field.Forbidden(p, fmt.Sprintf("not supported by weir: %s is cluster-scoped; a quota counts the objects of its namespace", k.Resource()))}
			}
			return nil
		}
	}
	return field.ErrorList{field.Forbidden(p, fmt.Sprintf("not supported by weir: weir serves no resource %s", quota.ObjectCountName(res, group)[len("count/"):]))}
}

// limitRangeResources are the resources a LimitRange may bound in weir:
// those a container's limits may name (podsupport.go).
var limitRangeResources = []string{string(corev1.ResourceCPU), string(corev1.ResourceMemory)}

// defaultLimitRange fills each Container item's defaults as kube does.
func defaultLimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		quota.DefaultLimitRangeItem(&lr.Spec.Limits[i])
	}
}

// validateLimitRange checks a LimitRange as kube does (one item per
// type, no defaults for Pod items, min <= defaultRequest <= default <=
// max, 1 <= maxLimitRequestRatio <= max/min), with weir's limits: types
// Container and Pod (not PersistentVolumeClaim) and the
// resources cpu and memory.
func validateLimitRange(lr, _ *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("spec", "limits")
	types := map[corev1.LimitType]bool{}
	for i := range lr.Spec.Limits {
		it := &lr.Spec.Limits[i]
		ip := path.Index(i)
		switch it.Type {
		case corev1.LimitTypeContainer, corev1.LimitTypePod:
		case corev1.LimitTypePersistentVolumeClaim:
			errs = append(errs, field.Forbidden(ip.Child("type"), "not supported by weir: LimitRanges do not bound PersistentVolumeClaims' storage yet; use a ResourceQuota's requests.storage"))
		default:
			errs = append(errs, field.NotSupported(ip.Child("type"), it.Type, []string{string(corev1.LimitTypeContainer), string(corev1.LimitTypePod)}))
		}
		if types[it.Type] {
			errs = append(errs, field.Duplicate(ip.Child("type"), it.Type))
		}
		types[it.Type] = true
		if it.Type == corev1.LimitTypePod {
			if len(it.Default) > 0 {
				errs = append(errs, field.Forbidden(ip.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(it.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(ip.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		}
		lists := []struct {
			name string
			l    corev1.ResourceList
		}{{"max", it.Max}, {"min", it.Min}, {"default", it.Default}, {"defaultRequest", it.DefaultRequest}, {"maxLimitRequestRatio", it.MaxLimitRequestRatio}}
		keys := map[corev1.ResourceName]bool{}
		for _, l := range lists {
			for _, n := range sortedResourceNames(l.l) {
				p := ip.Child(l.name).Key(string(n))
				keys[n] = true
				if !contains(limitRangeResources, string(n)) {
					errs = append(errs, field.NotSupported(p, n, limitRangeResources))
				}
				if v := l.l[n]; v.Sign() < 0 {
					errs = append(errs, field.Invalid(p, v.String(), "must be greater than or equal to 0"))
				}
			}
		}
		for _, k := range sortedResourceNames(boolKeys(keys)) {
			errs = append(errs, limitRangeOrder(it, k, ip)...)
		}
	}
	return errs
}

// limitRangeOrder is kube's ordering of one resource's bounds in an item.
func limitRangeOrder(it *corev1.LimitRangeItem, k corev1.ResourceName, ip *field.Path) field.ErrorList {
	var errs field.ErrorList
	min, hasMin := it.Min[k]
	max, hasMax := it.Max[k]
	def, hasDef := it.Default[k]
	defReq, hasDefReq := it.DefaultRequest[k]
	ratio, hasRatio := it.MaxLimitRequestRatio[k]
	key := func(c string) *field.Path { return ip.Child(c).Key(string(k)) }
	if hasMin && hasMax && min.Cmp(max) > 0 {
		errs = append(errs, field.Invalid(key("min"), min.String(), fmt.Sprintf("min value %s is greater than max value %s", min.String(), max.String())))
	}
	if hasDefReq && hasMin && min.Cmp(defReq) > 0 {
		errs = append(errs, field.Invalid(key("defaultRequest"), defReq.String(), fmt.Sprintf("min value %s is greater than default request value %s", min.String(), defReq.String())))
	}
	if hasDefReq && hasMax && defReq.Cmp(max) > 0 {
		errs = append(errs, field.Invalid(key("defaultRequest"), defReq.String(), fmt.Sprintf("default request value %s is greater than max value %s", defReq.String(), max.String())))
	}
	if hasDefReq && hasDef && defReq.Cmp(def) > 0 {
		errs = append(errs, field.Invalid(key("defaultRequest"), defReq.String(), fmt.Sprintf("default request value %s is greater than default limit value %s", defReq.String(), def.String())))
	}
	if hasDef && hasMin && min.Cmp(def) > 0 {
		errs = append(errs, field.Invalid(key("default"), min.String(), fmt.Sprintf("min value %s is greater than default value %s", min.String(), def.String())))
	}
	if hasDef && hasMax && def.Cmp(max) > 0 {
		errs = append(errs, field.Invalid(key("default"), max.String(), fmt.Sprintf("default value %s is greater than max value %s", def.String(), max.String())))
	}
	if hasRatio && ratio.Cmp(*apiresource.NewQuantity(1, apiresource.DecimalSI)) < 0 {
		errs = append(errs, field.Invalid(key("maxLimitRequestRatio"), ratio.String(), fmt.Sprintf("ratio %s is less than 1", ratio.String())))
	}
	if hasRatio && hasMin && hasMax && min.Sign() > 0 {
		r, lo, hi := float64(ratio.Value()), min.Value(), max.Value()
		if ratio.Value() < apiresource.MaxMilliValue && lo < apiresource.MaxMilliValue && hi < apiresource.MaxMilliValue {
			r, lo, hi = float64(ratio.MilliValue())/1000, min.MilliValue(), max.MilliValue()
		}
		if limit := float64(hi) / float64(lo); r > limit {
			errs = append(errs, field.Invalid(key("maxLimitRequestRatio"), ratio.String(), fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), limit)))
		}
	}
	return errs
}

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func boolKeys(m map[corev1.ResourceName]bool) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k := range m {
		out[k] = apiresource.Quantity{}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
