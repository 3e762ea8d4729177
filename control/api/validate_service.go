package api

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var supportedServiceTypes = sets.New(corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort,
	corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName)

func validateService(s, old *corev1.Service) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if !supportedServiceTypes.Has(s.Spec.Type) {
		errs = append(errs, field.NotSupported(spec.Child("type"), s.Spec.Type, sets.List(supportedServiceTypes)))
	}
	errs = append(errs, validateClusterIP(s, spec)...)
	errs = append(errs, validateServicePorts(s, spec.Child("ports"))...)
	errs = append(errs, metavalidation.ValidateLabels(s.Spec.Selector, spec.Child("selector"))...)
	if a := s.Spec.SessionAffinity; a != corev1.ServiceAffinityNone && a != corev1.ServiceAffinityClientIP {
		errs = append(errs, field.NotSupported(spec.Child("sessionAffinity"), a, []corev1.ServiceAffinity{corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP}))
	}
	if old != nil && needsIP(old) && needsIP(s) && s.Spec.ClusterIP != old.Spec.ClusterIP {
		errs = append(errs, field.Invalid(spec.Child("clusterIP"), s.Spec.ClusterIP, "field is immutable"))
	}
	if old != nil && (old.Spec.ClusterIP == corev1.ClusterIPNone) != (s.Spec.ClusterIP == corev1.ClusterIPNone) && s.Spec.Type != corev1.ServiceTypeExternalName && old.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Invalid(spec.Child("clusterIP"), s.Spec.ClusterIP, "field is immutable: a service cannot change between headless and not"))
	}
	return errs
}

func validateClusterIP(s *corev1.Service, spec *field.Path) field.ErrorList {
	ip := s.Spec.ClusterIP
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		var errs field.ErrorList
		if ip != "" {
			errs = append(errs, field.Forbidden(spec.Child("clusterIP"), "must be empty for ExternalName services"))
		}
		if s.Spec.ExternalName == "" {
			errs = append(errs, field.Required(spec.Child("externalName"), "ExternalName services need an externalName"))
		}
		for _, msg := range validation.IsDNS1123Subdomain(s.Spec.ExternalName) {
			if s.Spec.ExternalName != "" {
				errs = append(errs, field.Invalid(spec.Child("externalName"), s.Spec.ExternalName, msg))
			}
		}
		return errs
	}
	if ip == "" || ip == corev1.ClusterIPNone {
		if ip == corev1.ClusterIPNone && needsNodePorts(s) {
			return field.ErrorList{field.Invalid(spec.Child("clusterIP"), ip, "headless services cannot be of type NodePort or LoadBalancer")}
		}
		return nil
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return field.ErrorList{field.Invalid(spec.Child("clusterIP"), ip, `must be a valid IP address, "None" or empty`)}
	}
	return nil
}

func validateServicePorts(s *corev1.Service, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	headless := s.Spec.ClusterIP == corev1.ClusterIPNone
	if len(s.Spec.Ports) == 0 && !headless && s.Spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(path, "a service needs at least one port (or clusterIP: None)"))
	}
	names := sets.New[string]()
	seen := sets.New[string]()
	for i, p := range s.Spec.Ports {
		pp := path.Index(i)
		errs = append(errs, validateServicePortName(p.Name, len(s.Spec.Ports) > 1, pp.Child("name"), names)...)
		errs = append(errs, validatePortNum(p.Port, pp.Child("port"))...)
		errs = append(errs, validateProtocol(p.Protocol, pp.Child("protocol"))...)
		errs = append(errs, validateTargetPort(p.TargetPort, pp.Child("targetPort"))...)
		if p.NodePort != 0 && !needsNodePorts(s) {
			errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may only be set for services of type NodePort or LoadBalancer"))
		} else if p.NodePort != 0 {
			errs = append(errs, validatePortNum(p.NodePort, pp.Child("nodePort"))...)
		}
		key := fmt.Sprintf("%s/%d", p.Protocol, p.Port)
		if seen.Has(key) {
			errs = append(errs, field.Duplicate(pp, key))
		}
		seen.Insert(key)
	}
	return errs
}

func validateServicePortName(name string, required bool, path *field.Path, names sets.Set[string]) field.ErrorList {
	if name == "" {
		if required {
			return field.ErrorList{field.Required(path, "ports must be named when a service has more than one")}
		}
		return nil
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	if names.Has(name) {
		errs = append(errs, field.Duplicate(path, name))
	}
	names.Insert(name)
	return errs
}

func validateTargetPort(tp intstr.IntOrString, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if tp.Type == intstr.Int {
		return validatePortNum(tp.IntVal, path)
	}
	for _, msg := range validation.IsValidPortName(tp.StrVal) {
		errs = append(errs, field.Invalid(path, tp.StrVal, msg))
	}
	return errs
}
