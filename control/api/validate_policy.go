package api

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// unhealthyPodEvictionPolicies are the values of a PodDisruptionBudget's
// spec.unhealthyPodEvictionPolicy, sorted as kube lists them.
var unhealthyPodEvictionPolicies = []string{string(policyv1.AlwaysAllow), string(policyv1.IfHealthyBudget)}

// defaultPodDisruptionBudget empties the status of a PodDisruptionBudget
// being created, as kube's strategy does (the disruption controller
// fills it); prepareCreate alone calls defaults without a resourceVersion.
func defaultPodDisruptionBudget(pdb *policyv1.PodDisruptionBudget) {
	if pdb.ResourceVersion == "" {
		pdb.Status = policyv1.PodDisruptionBudgetStatus{}
	}
}

// validatePodDisruptionBudget is kube's ValidatePodDisruptionBudget (spec)
// and ValidatePodDisruptionBudgetStatusUpdate (status, policy/v1): at most
// one of minAvailable and maxUnavailable, each a non-negative integer or a
// percentage of at most 100%; a valid label selector; a known
// unhealthyPodEvictionPolicy; non-negative counts and valid conditions.
// The spec may change after creation, as in kube since 1.15.
func validatePodDisruptionBudget(pdb, _ *policyv1.PodDisruptionBudget) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	s := pdb.Spec
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(spec, s, "minAvailable and maxUnavailable cannot be both set"))
	}
	errs = append(errs, intOrPercent(s.MinAvailable, spec.Child("minAvailable"))...)
	errs = append(errs, intOrPercent(s.MaxUnavailable, spec.Child("maxUnavailable"))...)
	errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
	if p := s.UnhealthyPodEvictionPolicy; p != nil && *p != policyv1.AlwaysAllow && *p != policyv1.IfHealthyBudget {
		errs = append(errs, field.NotSupported(spec.Child("unhealthyPodEvictionPolicy"), *p, unhealthyPodEvictionPolicies))
	}
	status := field.NewPath("status")
	st := pdb.Status
	errs = append(errs, metav1validation.ValidateConditions(st.Conditions, status.Child("conditions"))...)
	errs = append(errs, nonNegative(int64(st.DisruptionsAllowed), status.Child("disruptionsAllowed"))...)
	errs = append(errs, nonNegative(int64(st.CurrentHealthy), status.Child("currentHealthy"))...)
	errs = append(errs, nonNegative(int64(st.DesiredHealthy), status.Child("desiredHealthy"))...)
	errs = append(errs, nonNegative(int64(st.ExpectedPods), status.Child("expectedPods"))...)
	return errs
}
