package api

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateLease checks a coordination.k8s.io/v1 Lease as kube-apiserver
// does: a lease duration is positive, the transition count is not
// negative, a preferred holder needs a strategy, and a strategy is one
// kube knows.
func validateLease(l, _ *coordinationv1.Lease) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(spec.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if t := l.Spec.LeaseTransitions; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(spec.Child("leaseTransitions"), *t, "must be greater than or equal to 0"))
	}
	if st := l.Spec.Strategy; st != nil && *st != coordinationv1.OldestEmulationVersion {
		errs = append(errs, field.NotSupported(spec.Child("strategy"), *st, []string{string(coordinationv1.OldestEmulationVersion)}))
	}
	if l.Spec.PreferredHolder != nil && *l.Spec.PreferredHolder != "" && (l.Spec.Strategy == nil || *l.Spec.Strategy == "") {
		errs = append(errs, field.Forbidden(spec.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
