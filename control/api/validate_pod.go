package api

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
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
		errs = append(errs, validateDeadlineUpdate(&p.Spec, &old.Spec, field.NewPath("spec"))...)
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
	errs = append(errs, validateDNSConfig(s, path)...)
	errs = append(errs, validatePodAffinity(s.Affinity, path.Child("affinity"))...)
	errs = append(errs, validateSpread(s.TopologySpreadConstraints, path.Child("topologySpreadConstraints"))...)
	errs = append(errs, validateLifecycle(s, path)...)
	errs = append(errs, validateHostAliases(s.HostAliases, path.Child("hostAliases"))...)
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

// validateDNSConfig checks dnsConfig as kube-apiserver does: dnsPolicy
// None needs a nameserver; at most 3 nameservers (IP addresses) and 32
// search paths of 2048 characters; every option named.
func validateDNSConfig(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	dp := path.Child("dnsConfig")
	if s.DNSPolicy == corev1.DNSNone && (s.DNSConfig == nil || len(s.DNSConfig.Nameservers) == 0) {
		if s.DNSConfig == nil {
			return field.ErrorList{field.Required(dp, "must provide `dnsConfig` when `dnsPolicy` is None")}
		}
		errs = append(errs, field.Required(dp.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
	}
	c := s.DNSConfig
	if c == nil {
		return errs
	}
	if len(c.Nameservers) > 3 {
		errs = append(errs, field.Invalid(dp.Child("nameservers"), c.Nameservers, "must not have more than 3 nameservers"))
	}
	for i, ns := range c.Nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			errs = append(errs, field.Invalid(dp.Child("nameservers").Index(i), ns, "must be valid IP address"))
		}
	}
	if len(c.Searches) > 32 {
		errs = append(errs, field.Invalid(dp.Child("searches"), c.Searches, "must not have more than 32 search paths"))
	}
	if n := len(strings.Join(c.Searches, " ")); n > 2048 {
		errs = append(errs, field.Invalid(dp.Child("searches"), c.Searches, "must not have more than 2048 characters (including spaces) in the search list"))
	}
	for i, search := range c.Searches {
		for _, msg := range validation.IsDNS1123Subdomain(strings.TrimSuffix(search, ".")) {
			errs = append(errs, field.Invalid(dp.Child("searches").Index(i), search, msg))
		}
	}
	for i, o := range c.Options {
		if o.Name == "" {
			errs = append(errs, field.Required(dp.Child("options").Index(i), "Option.Name must not be empty"))
		}
	}
	return errs
}

// validateHostAliases checks hostAliases as kube-apiserver does: an IP
// address and host names that are DNS subdomains.
func validateHostAliases(aliases []corev1.HostAlias, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, a := range aliases {
		ap := path.Index(i)
		if _, err := netip.ParseAddr(a.IP); err != nil {
			errs = append(errs, field.Invalid(ap.Child("ip"), a.IP, "must be valid IP address"))
		}
		for j, h := range a.Hostnames {
			for _, msg := range validation.IsDNS1123Subdomain(h) {
				errs = append(errs, field.Invalid(ap.Child("hostnames").Index(j), h, msg))
			}
		}
	}
	return errs
}

// validatePodAffinity checks pod (anti-)affinity terms as kube-apiserver
// does: a topology key, a valid label selector, weights of 1-100.
func validatePodAffinity(a *corev1.Affinity, path *field.Path) field.ErrorList {
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	check := func(req []corev1.PodAffinityTerm, pref []corev1.WeightedPodAffinityTerm, p *field.Path) {
		for i := range req {
			errs = append(errs, validateAffinityTerm(&req[i], p.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
		}
		for i := range pref {
			wp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			if pref[i].Weight < 1 || pref[i].Weight > 100 {
				errs = append(errs, field.Invalid(wp.Child("weight"), pref[i].Weight, "must be in the range 1-100"))
			}
			errs = append(errs, validateAffinityTerm(&pref[i].PodAffinityTerm, wp.Child("podAffinityTerm"))...)
		}
	}
	if pa := a.PodAffinity; pa != nil {
		check(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, path.Child("podAffinity"))
	}
	if pa := a.PodAntiAffinity; pa != nil {
		check(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, path.Child("podAntiAffinity"))
	}
	return errs
}

func validateAffinityTerm(t *corev1.PodAffinityTerm, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateTopologyKey(t.TopologyKey, path.Child("topologyKey"))...)
	errs = append(errs, metav1validation.ValidateLabelSelector(t.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, path.Child("labelSelector"))...)
	for i, ns := range t.Namespaces {
		for _, msg := range validation.IsDNS1123Label(ns) {
			errs = append(errs, field.Invalid(path.Child("namespaces").Index(i), ns, msg))
		}
	}
	return errs
}

func validateTopologyKey(key string, path *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(path, "can not be empty")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(key) {
		errs = append(errs, field.Invalid(path, key, msg))
	}
	return errs
}

var (
	supportedUnsatisfiable   = sets.New(string(corev1.DoNotSchedule), string(corev1.ScheduleAnyway))
	supportedInclusionPolicy = sets.New(string(corev1.NodeInclusionPolicyHonor), string(corev1.NodeInclusionPolicyIgnore))
)

// validateSpread checks topologySpreadConstraints as kube-apiserver does.
func validateSpread(cs []corev1.TopologySpreadConstraint, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, c := range cs {
		p := path.Index(i)
		if c.MaxSkew <= 0 {
			errs = append(errs, field.Invalid(p.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
		}
		errs = append(errs, validateTopologyKey(c.TopologyKey, p.Child("topologyKey"))...)
		if !supportedUnsatisfiable.Has(string(c.WhenUnsatisfiable)) {
			errs = append(errs, field.NotSupported(p.Child("whenUnsatisfiable"), c.WhenUnsatisfiable, sets.List(supportedUnsatisfiable)))
		}
		if c.MinDomains != nil {
			if *c.MinDomains <= 0 {
				errs = append(errs, field.Invalid(p.Child("minDomains"), *c.MinDomains, "must be greater than zero"))
			} else if c.WhenUnsatisfiable != corev1.DoNotSchedule {
				errs = append(errs, field.Invalid(p.Child("minDomains"), *c.MinDomains,
					fmt.Sprintf("can only use minDomains if whenUnsatisfiable=%s, not %s", corev1.DoNotSchedule, c.WhenUnsatisfiable)))
			}
		}
		for _, pol := range []struct {
			name string
			v    *corev1.NodeInclusionPolicy
		}{{"nodeAffinityPolicy", c.NodeAffinityPolicy}, {"nodeTaintsPolicy", c.NodeTaintsPolicy}} {
			if pol.v != nil && !supportedInclusionPolicy.Has(string(*pol.v)) {
				errs = append(errs, field.NotSupported(p.Child(pol.name), *pol.v, sets.List(supportedInclusionPolicy)))
			}
		}
		errs = append(errs, metav1validation.ValidateLabelSelector(c.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, p.Child("labelSelector"))...)
		pair := fmt.Sprintf("{%v, %v}", c.TopologyKey, c.WhenUnsatisfiable)
		if seen.Has(pair) {
			errs = append(errs, field.Duplicate(p.Child("{topologyKey, whenUnsatisfiable}"), pair))
		}
		seen.Insert(pair)
	}
	return errs
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
