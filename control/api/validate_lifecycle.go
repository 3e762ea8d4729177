package api

import (
	"math"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateLifecycle checks, as kube-apiserver does, what the node agent
// runs of init containers, hooks and activeDeadlineSeconds: a positive
// deadline; one handler per hook; a sleep within the grace period.
func validateLifecycle(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if d := s.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if s.TerminationGracePeriodSeconds != nil {
		grace = *s.TerminationGracePeriodSeconds
	}
	for _, cs := range []struct {
		name string
		ctrs []corev1.Container
	}{{"initContainers", s.InitContainers}, {"containers", s.Containers}} {
		for i, c := range cs.ctrs {
			if c.Lifecycle == nil {
				continue
			}
			lp := path.Child(cs.name).Index(i).Child("lifecycle")
			errs = append(errs, validateHook(c.Lifecycle.PostStart, grace, lp.Child("postStart"))...)
			errs = append(errs, validateHook(c.Lifecycle.PreStop, grace, lp.Child("preStop"))...)
		}
	}
	return errs
}

func validateHook(h *corev1.LifecycleHandler, grace int64, p *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	n := 0
	var errs field.ErrorList
	if h.Exec != nil {
		n++
		if len(h.Exec.Command) == 0 {
			errs = append(errs, field.Required(p.Child("exec", "command"), ""))
		}
	}
	if h.HTTPGet != nil {
		n++
		if h.HTTPGet.Port.IntValue() == 0 && h.HTTPGet.Port.StrVal == "" {
			errs = append(errs, field.Required(p.Child("httpGet", "port"), ""))
		}
	}
	if h.TCPSocket != nil {
		n++
	}
	if h.Sleep != nil {
		n++
		if sec := h.Sleep.Seconds; sec < 0 || sec > grace {
			errs = append(errs, field.Invalid(p.Child("sleep", "seconds"), sec, "must be non-negative and less than terminationGracePeriodSeconds ("+strconv.FormatInt(grace, 10)+")"))
		}
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a handler type"))
	case n > 1:
		errs = append(errs, field.Forbidden(p, "may not specify more than 1 handler type"))
	}
	return errs
}

// validateDeadlineUpdate: as in Kubernetes, a pod's activeDeadlineSeconds
// may be set or lowered, not raised or removed.
func validateDeadlineUpdate(spec, old *corev1.PodSpec, path *field.Path) field.ErrorList {
	p := path.Child("activeDeadlineSeconds")
	switch {
	case spec.ActiveDeadlineSeconds == nil && old.ActiveDeadlineSeconds != nil:
		return field.ErrorList{field.Invalid(p, spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value")}
	case spec.ActiveDeadlineSeconds != nil && old.ActiveDeadlineSeconds != nil && *spec.ActiveDeadlineSeconds > *old.ActiveDeadlineSeconds:
		return field.ErrorList{field.Invalid(p, *spec.ActiveDeadlineSeconds, "must be less than or equal to previous value")}
	}
	return nil
}
