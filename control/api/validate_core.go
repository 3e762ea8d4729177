package api

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxDataBytes bounds the data of a ConfigMap or Secret, like Kubernetes.
const maxDataBytes = 1 << 20

func validateNode(n, old *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	for i, c := range n.Spec.PodCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "podCIDRs").Index(i), c, "must be a CIDR such as 10.244.1.0/24"))
		}
	}
	if n.Spec.PodCIDR != "" {
		if _, err := netip.ParsePrefix(n.Spec.PodCIDR); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("spec", "podCIDR"), n.Spec.PodCIDR, "must be a CIDR such as 10.244.1.0/24"))
		}
	}
	for i, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP || a.Type == corev1.NodeExternalIP {
			errs = append(errs, validation.IsValidIP(field.NewPath("status", "addresses").Index(i).Child("address"), a.Address)...)
		}
	}
	return errs
}

func validateConfigMap(c, old *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for k, v := range c.Data {
		errs = append(errs, validateDataKey(k, field.NewPath("data"))...)
		total += len(v)
	}
	for k, v := range c.BinaryData {
		errs = append(errs, validateDataKey(k, field.NewPath("binaryData"))...)
		if _, dup := c.Data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, "duplicate of a key in data"))
		}
		total += len(v)
	}
	if total > maxDataBytes {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataBytes))
	}
	if old != nil && old.Immutable != nil && *old.Immutable {
		errs = append(errs, immutableData(c.Data, old.Data, c.BinaryData, old.BinaryData)...)
	}
	return errs
}

func validateSecret(s, old *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for k, v := range s.Data {
		errs = append(errs, validateDataKey(k, field.NewPath("data"))...)
		total += len(v)
	}
	if total > maxDataBytes {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataBytes))
	}
	if old != nil && s.Type != old.Type {
		errs = append(errs, field.Invalid(field.NewPath("type"), s.Type, "field is immutable"))
	}
	if old != nil && old.Immutable != nil && *old.Immutable {
		errs = append(errs, immutableData(nil, nil, s.Data, old.Data)...)
	}
	return errs
}

func validateDataKey(k string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(k) {
		errs = append(errs, field.Invalid(path.Key(k), k, msg))
	}
	return errs
}

func immutableData(d, oldD map[string]string, b, oldB map[string][]byte) field.ErrorList {
	same := len(d) == len(oldD) && len(b) == len(oldB)
	for k, v := range d {
		same = same && oldD[k] == v
	}
	for k, v := range b {
		same = same && string(oldB[k]) == string(v)
	}
	if same {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set")}
}

func validateEvent(e, old *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	io := e.InvolvedObject
	if io.Namespace != "" && io.Namespace != e.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject", "namespace"), io.Namespace, "does not match event.namespace"))
	}
	if e.Type != "" && e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.NotSupported(field.NewPath("type"), e.Type, []string{corev1.EventTypeNormal, corev1.EventTypeWarning}))
	}
	if len(e.Message) > 4096 {
		errs = append(errs, field.TooLong(field.NewPath("message"), "", 4096))
	}
	return errs
}

func validateEndpoints(e, old *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	for i, ss := range e.Subsets {
		sp := field.NewPath("subsets").Index(i)
		for j, a := range ss.Addresses {
			errs = append(errs, validation.IsValidIP(sp.Child("addresses").Index(j).Child("ip"), a.IP)...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validation.IsValidIP(sp.Child("notReadyAddresses").Index(j).Child("ip"), a.IP)...)
		}
		for j, p := range ss.Ports {
			pp := sp.Child("ports").Index(j)
			errs = append(errs, validatePortNum(p.Port, pp.Child("port"))...)
			errs = append(errs, validateProtocol(p.Protocol, pp.Child("protocol"))...)
		}
	}
	return errs
}
