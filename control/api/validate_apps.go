package api

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateWorkload checks what Deployments, ReplicaSets and Jobs share: a
// non-empty selector that matches the template's labels, a valid pod
// template (of fields weir supports, podsupport.go), and a selector that
// never changes.
func validateWorkload(sel, oldSel *metav1.LabelSelector, tmpl, oldTmpl *corev1.PodTemplateSpec, replicas *int32, isUpdate bool) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if replicas != nil && *replicas < 0 {
		errs = append(errs, field.Invalid(spec.Child("replicas"), *replicas, "must be >= 0"))
	}
	if sel == nil || len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Required(spec.Child("selector"), "a non-empty selector is required"))
	} else {
		errs = append(errs, metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
		if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && !s.Matches(labels.Set(tmpl.Labels)) {
			errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, metavalidation.ValidateLabels(tmpl.Labels, spec.Child("template", "metadata", "labels"))...)
	errs = append(errs, validatePodSpec(&tmpl.Spec, spec.Child("template", "spec"))...)
	var oldSpec *corev1.PodSpec
	if oldTmpl != nil {
		oldSpec = &oldTmpl.Spec
	}
	errs = append(errs, validateContainerResources(&tmpl.Spec, oldSpec, spec.Child("template", "spec"))...)
	errs = append(errs, validatePodSupportUpdate(&tmpl.Spec, oldSpec, spec.Child("template", "spec"))...)
	if isUpdate && !apiequality.Semantic.DeepEqual(sel, oldSel) {
		errs = append(errs, field.Invalid(spec.Child("selector"), sel, "field is immutable"))
	}
	return errs
}

func validateDeployment(d, old *appsv1.Deployment) field.ErrorList {
	var oldSel *metav1.LabelSelector
	var oldTmpl *corev1.PodTemplateSpec
	if old != nil {
		oldSel, oldTmpl = old.Spec.Selector, &old.Spec.Template
	}
	errs := validateWorkload(d.Spec.Selector, oldSel, &d.Spec.Template, oldTmpl, d.Spec.Replicas, old != nil)
	if t := d.Spec.Strategy.Type; t != appsv1.RecreateDeploymentStrategyType && t != appsv1.RollingUpdateDeploymentStrategyType {
		errs = append(errs, field.NotSupported(field.NewPath("spec", "strategy", "type"), t,
			[]appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}))
	}
	if d.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(field.NewPath("spec", "template", "spec", "restartPolicy"), d.Spec.Template.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	return errs
}

func validateReplicaSet(rs, old *appsv1.ReplicaSet) field.ErrorList {
	var oldSel *metav1.LabelSelector
	var oldTmpl *corev1.PodTemplateSpec
	if old != nil {
		oldSel, oldTmpl = old.Spec.Selector, &old.Spec.Template
	}
	errs := validateWorkload(rs.Spec.Selector, oldSel, &rs.Spec.Template, oldTmpl, rs.Spec.Replicas, old != nil)
	if rs.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(field.NewPath("spec", "template", "spec", "restartPolicy"), rs.Spec.Template.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	return errs
}

func validateJob(j, old *batchv1.Job) field.ErrorList {
	var oldSel *metav1.LabelSelector
	var oldTmpl *corev1.PodTemplateSpec
	if old != nil {
		oldSel, oldTmpl = old.Spec.Selector, &old.Spec.Template
	}
	spec := field.NewPath("spec")
	errs := validateWorkload(j.Spec.Selector, oldSel, &j.Spec.Template, oldTmpl, nil, old != nil)
	if rp := j.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(spec.Child("template", "spec", "restartPolicy"), rp, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	for name, v := range map[string]*int32{"parallelism": j.Spec.Parallelism, "completions": j.Spec.Completions, "backoffLimit": j.Spec.BackoffLimit} {
		if v != nil && *v < 0 {
			errs = append(errs, field.Invalid(spec.Child(name), *v, "must be >= 0"))
		}
	}
	if old != nil && !apiequality.Semantic.DeepEqual(j.Spec.Template, old.Spec.Template) {
		errs = append(errs, field.Invalid(spec.Child("template"), "", "field is immutable"))
	}
	return errs
}

func validateEndpointSlice(s, old *discoveryv1.EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	switch s.AddressType {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("addressType"), s.AddressType,
			[]discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN}))
	}
	if old != nil && s.AddressType != old.AddressType {
		errs = append(errs, field.Invalid(field.NewPath("addressType"), s.AddressType, "field is immutable"))
	}
	for i, ep := range s.Endpoints {
		ap := field.NewPath("endpoints").Index(i).Child("addresses")
		if len(ep.Addresses) == 0 || len(ep.Addresses) > 100 {
			errs = append(errs, field.Invalid(ap, len(ep.Addresses), "must have between 1 and 100 addresses"))
		}
		for j, a := range ep.Addresses {
			errs = append(errs, validateSliceAddress(s.AddressType, a, ap.Index(j))...)
		}
	}
	for i, p := range s.Ports {
		pp := field.NewPath("ports").Index(i)
		if p.Port != nil {
			errs = append(errs, validatePortNum(*p.Port, pp.Child("port"))...)
		}
		if p.Protocol != nil {
			errs = append(errs, validateProtocol(*p.Protocol, pp.Child("protocol"))...)
		}
	}
	return errs
}

func validateSliceAddress(t discoveryv1.AddressType, a string, path *field.Path) field.ErrorList {
	if t == discoveryv1.AddressTypeFQDN {
		var errs field.ErrorList
		for _, msg := range validation.IsDNS1123Subdomain(a) {
			errs = append(errs, field.Invalid(path, a, msg))
		}
		return errs
	}
	return validation.IsValidIP(path, a)
}
