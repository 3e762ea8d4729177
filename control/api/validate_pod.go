package api

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedProtocols     = sets.New(corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)
	supportedRestartPolicy = sets.New(corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)
)

func validatePod(p, old *corev1.Pod) field.ErrorList {
	errs := validatePodSpec(&p.Spec, field.NewPath("spec"))
	var oldSpec *corev1.PodSpec
	if old != nil {
		oldSpec = &old.Spec
		errs = append(errs, validatePodSpecUpdate(&p.Spec, &old.Spec, field.NewPath("spec"))...)
	}
	errs = append(errs, validateContainerResources(&p.Spec, oldSpec, field.NewPath("spec"))...)
	return append(errs, validatePodSupportUpdate(&p.Spec, oldSpec, field.NewPath("spec"))...)
}

// validatePodSpecUpdate allows, like Kubernetes, only container images
// (and activeDeadlineSeconds) to change in a pod's spec.
func validatePodSpecUpdate(spec, old *corev1.PodSpec, path *field.Path) field.ErrorList {
	a, b := spec.DeepCopy(), old.DeepCopy()
	for _, s := range []*corev1.PodSpec{a, b} {
		for i := range s.Containers {
			s.Containers[i].Image = ""
		}
		for i := range s.InitContainers {
			s.InitContainers[i].Image = ""
		}
		s.ActiveDeadlineSeconds = nil
	}
	if len(a.Containers) == len(b.Containers) && apiequality.Semantic.DeepEqual(a, b) {
		return nil
	}
	return field.ErrorList{field.Forbidden(path, "pod updates may not change fields other than spec.containers[*].image, spec.initContainers[*].image and spec.activeDeadlineSeconds; delete and recreate the pod instead")}
}

func validatePodSpec(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), "a pod needs at least one container"))
	}
	names := sets.New[string]()
	errs = append(errs, validateContainers(s.InitContainers, path.Child("initContainers"), names)...)
	errs = append(errs, validateContainers(s.Containers, path.Child("containers"), names)...)
	if s.RestartPolicy != "" && !supportedRestartPolicy.Has(s.RestartPolicy) {
		errs = append(errs, field.NotSupported(path.Child("restartPolicy"), s.RestartPolicy, sets.List(supportedRestartPolicy)))
	}
	if s.NodeName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(s.NodeName) {
			errs = append(errs, field.Invalid(path.Child("nodeName"), s.NodeName, msg))
		}
	}
	vols := sets.New[string]()
	for i, v := range s.Volumes {
		vp := path.Child("volumes").Index(i).Child("name")
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			errs = append(errs, field.Invalid(vp, v.Name, msg))
		}
		if vols.Has(v.Name) {
			errs = append(errs, field.Duplicate(vp, v.Name))
		}
		vols.Insert(v.Name)
	}
	if s.TerminationGracePeriodSeconds != nil && *s.TerminationGracePeriodSeconds < 0 {
		errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"), *s.TerminationGracePeriodSeconds, "must be >= 0"))
	}
	return errs
}

func validateContainers(cs []corev1.Container, path *field.Path, names sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	for i, c := range cs {
		cp := path.Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), "every container needs a name"))
		}
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			if c.Name != "" {
				errs = append(errs, field.Invalid(cp.Child("name"), c.Name, msg))
			}
		}
		if names.Has(c.Name) && c.Name != "" {
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		}
		names.Insert(c.Name)
		if c.Image == "" {
			errs = append(errs, field.Required(cp.Child("image"), "every container needs an image"))
		}
		errs = append(errs, validateContainerPorts(c.Ports, cp.Child("ports"))...)
		for j, e := range c.Env {
			if e.Name == "" {
				errs = append(errs, field.Required(cp.Child("env").Index(j).Child("name"), ""))
			}
		}
	}
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range ports {
		pp := path.Index(i)
		errs = append(errs, validatePortNum(p.ContainerPort, pp.Child("containerPort"))...)
		if p.HostPort != 0 {
			errs = append(errs, validatePortNum(p.HostPort, pp.Child("hostPort"))...)
		}
		errs = append(errs, validateProtocol(p.Protocol, pp.Child("protocol"))...)
		if p.Name != "" {
			for _, msg := range validation.IsValidPortName(p.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), p.Name, msg))
			}
		}
	}
	return errs
}

func validatePortNum(port int32, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(path, port, msg))
	}
	return errs
}

func validateProtocol(p corev1.Protocol, path *field.Path) field.ErrorList {
	if p == "" {
		return field.ErrorList{field.Required(path, fmt.Sprintf("one of %v", sets.List(supportedProtocols)))}
	}
	if !supportedProtocols.Has(p) {
		return field.ErrorList{field.NotSupported(path, p, sets.List(supportedProtocols))}
	}
	return nil
}

// validateContainerResources checks the resources of every container
// (validateRequestsWithinLimits) that are new: on an update, a container
// whose resources are those of the same container in old is left alone,
// so that objects stored before the check keep working.
func validateContainerResources(spec, old *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, part := range []struct {
		name     string
		cs, olds []corev1.Container
	}{{"initContainers", spec.InitContainers, nil}, {"containers", spec.Containers, nil}} {
		if old != nil {
			part.olds = old.Containers
			if part.name == "initContainers" {
				part.olds = old.InitContainers
			}
		}
		for i := range part.cs {
			c := &part.cs[i]
			kept := false
			for j := range part.olds {
				if part.olds[j].Name == c.Name && apiequality.Semantic.DeepEqual(part.olds[j].Resources, c.Resources) {
					kept = true
				}
			}
			if !kept {
				errs = append(errs, validateRequestsWithinLimits(c.Resources, path.Child(part.name).Index(i).Child("resources"))...)
			}
		}
	}
	return errs
}

// validateRequestsWithinLimits is kube's check of a container's
// resources: no negative quantity, no request above its limit.
func validateRequestsWithinLimits(r corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, part := range []struct {
		name string
		l    corev1.ResourceList
	}{{"limits", r.Limits}, {"requests", r.Requests}} {
		for _, k := range sortedResourceNames(part.l) {
			if v := part.l[k]; v.Sign() < 0 {
				errs = append(errs, field.Invalid(path.Child(part.name).Key(string(k)), v.String(), "must be greater than or equal to 0"))
			}
		}
	}
	for _, k := range sortedResourceNames(r.Requests) {
		req := r.Requests[k]
		if lim, ok := r.Limits[k]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(path.Child("requests").Key(string(k)), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", k, lim.String())))
		}
	}
	return errs
}
