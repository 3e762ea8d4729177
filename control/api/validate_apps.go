package api

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/robfig/cron/v3"
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

// validateDaemonSet checks a DaemonSet as kube-apiserver's
// ValidateDaemonSet does. weir's controller does not surge: a maxSurge
// other than 0 is refused.
func validateDaemonSet(ds, old *appsv1.DaemonSet) field.ErrorList {
	var oldSel *metav1.LabelSelector
	var oldTmpl *corev1.PodTemplateSpec
	if old != nil {
		oldSel, oldTmpl = old.Spec.Selector, &old.Spec.Template
	}
	spec := field.NewPath("spec")
	errs := validateWorkload(ds.Spec.Selector, oldSel, &ds.Spec.Template, oldTmpl, nil, old != nil)
	if rp := ds.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(spec.Child("template", "spec", "restartPolicy"), rp, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	errs = append(errs, nonNegative(int64(ds.Spec.MinReadySeconds), spec.Child("minReadySeconds"))...)
	if l := ds.Spec.RevisionHistoryLimit; l != nil {
		errs = append(errs, nonNegative(int64(*l), spec.Child("revisionHistoryLimit"))...)
	}
	us := spec.Child("updateStrategy")
	switch ds.Spec.UpdateStrategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru := ds.Spec.UpdateStrategy.RollingUpdate
		if ru == nil {
			errs = append(errs, field.Required(us.Child("rollingUpdate"), "this should be defaulted and never be nil"))
			break
		}
		rp := us.Child("rollingUpdate")
		errs = append(errs, intOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, intOrPercent(ru.MaxSurge, rp.Child("maxSurge"))...)
		if len(errs) > 0 {
			break
		}
		unavailable, surge := intOrPercentValue(ru.MaxUnavailable), intOrPercentValue(ru.MaxSurge)
		switch {
		case surge != 0:
			errs = append(errs, field.Invalid(rp.Child("maxSurge"), ru.MaxSurge.String(), "weir's DaemonSet controller does not surge; use maxUnavailable"))
		case unavailable == 0:
			errs = append(errs, field.Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
	case "":
		errs = append(errs, field.Required(us.Child("type"), ""))
	default:
		errs = append(errs, field.NotSupported(us.Child("type"), ds.Spec.UpdateStrategy.Type,
			[]appsv1.DaemonSetUpdateStrategyType{appsv1.OnDeleteDaemonSetStrategyType, appsv1.RollingUpdateDaemonSetStrategyType}))
	}
	return errs
}

// validateStatefulSet checks a StatefulSet as kube-apiserver's
// ValidateStatefulSet and ValidateStatefulSetUpdate do, with the pod
// template checked as the controller will create its pods: with a
// persistentVolumeClaim volume per claim template (errors on those
// volumes name the claim template). weir's controller replaces one pod
// at a time: a rollingUpdate.maxUnavailable other than 1 is refused.
func validateStatefulSet(ss, old *appsv1.StatefulSet) field.ErrorList {
	spec := field.NewPath("spec")
	var oldSel *metav1.LabelSelector
	var oldTmpl *corev1.PodTemplateSpec
	if old != nil {
		oldSel = old.Spec.Selector
		oldTmpl, _ = statefulPodTemplate(old)
	}
	tmpl, claimVolume := statefulPodTemplate(ss)
	errs := validateWorkload(ss.Spec.Selector, oldSel, tmpl, oldTmpl, ss.Spec.Replicas, old != nil)
	vols := spec.Child("template", "spec", "volumes")
	for i, e := range errs {
		for k, c := range claimVolume {
			at := vols.Index(k).String()
			if e.Field == at || strings.HasPrefix(e.Field, at+".") {
				ne := *e
				rest := strings.TrimPrefix(e.Field, at)
				if rest == ".name" {
					rest = ".metadata.name"
				}
				ne.Field = spec.Child("volumeClaimTemplates").Index(c).String() + rest
				errs[i] = &ne
			}
		}
	}
	if rp := ss.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(spec.Child("template", "spec", "restartPolicy"), rp, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if ss.Spec.Template.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(spec.Child("template", "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"))
	}
	if n := ss.Spec.ServiceName; n != "" {
		for _, msg := range validation.IsDNS1123Label(n) {
			errs = append(errs, field.Invalid(spec.Child("serviceName"), n, msg+" (it is each pod's spec.subdomain)"))
		}
	}
	switch p := ss.Spec.PodManagementPolicy; p {
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	case "":
		errs = append(errs, field.Required(spec.Child("podManagementPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(spec.Child("podManagementPolicy"), p,
			[]appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement}))
	}
	us := spec.Child("updateStrategy")
	switch ss.Spec.UpdateStrategy.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		if ss.Spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(us.Child("rollingUpdate"), ss.Spec.UpdateStrategy.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if ru := ss.Spec.UpdateStrategy.RollingUpdate; ru != nil {
			rp := us.Child("rollingUpdate")
			if ru.Partition != nil {
				errs = append(errs, nonNegative(int64(*ru.Partition), rp.Child("partition"))...)
			}
			if mu := ru.MaxUnavailable; mu != nil {
				if e := intOrPercent(mu, rp.Child("maxUnavailable")); len(e) > 0 {
					errs = append(errs, e...)
				} else if mu.Type != intstr.Int || mu.IntVal != 1 {
					errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), mu.String(), "weir's StatefulSet controller replaces one pod at a time; only 1 is supported"))
				}
			}
		}
	case "":
		errs = append(errs, field.Required(us.Child("type"), ""))
	default:
		errs = append(errs, field.NotSupported(us.Child("type"), ss.Spec.UpdateStrategy.Type,
			[]appsv1.StatefulSetUpdateStrategyType{appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType}))
	}
	errs = append(errs, nonNegative(int64(ss.Spec.MinReadySeconds), spec.Child("minReadySeconds"))...)
	if l := ss.Spec.RevisionHistoryLimit; l != nil {
		errs = append(errs, nonNegative(int64(*l), spec.Child("revisionHistoryLimit"))...)
	}
	if o := ss.Spec.Ordinals; o != nil {
		errs = append(errs, nonNegative(int64(o.Start), spec.Child("ordinals", "start"))...)
	}
	if rp := ss.Spec.PersistentVolumeClaimRetentionPolicy; rp != nil {
		pp := spec.Child("persistentVolumeClaimRetentionPolicy")
		for name, v := range map[string]appsv1.PersistentVolumeClaimRetentionPolicyType{"whenDeleted": rp.WhenDeleted, "whenScaled": rp.WhenScaled} {
			switch v {
			case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
			default:
				errs = append(errs, field.NotSupported(pp.Child(name), v, []appsv1.PersistentVolumeClaimRetentionPolicyType{
					appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType}))
			}
		}
	}
	errs = append(errs, validateClaimTemplates(ss.Spec.VolumeClaimTemplates, spec.Child("volumeClaimTemplates"))...)
	if old != nil {
		cl := ss.Spec.DeepCopy()
		cl.Replicas, cl.Template, cl.UpdateStrategy, cl.MinReadySeconds = old.Spec.Replicas, old.Spec.Template, old.Spec.UpdateStrategy, old.Spec.MinReadySeconds
		cl.Ordinals, cl.RevisionHistoryLimit, cl.PersistentVolumeClaimRetentionPolicy = old.Spec.Ordinals, old.Spec.RevisionHistoryLimit, old.Spec.PersistentVolumeClaimRetentionPolicy
		if !apiequality.Semantic.DeepEqual(*cl, old.Spec) {
			errs = append(errs, field.Forbidden(spec, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
		}
	}
	return errs
}

// statefulPodTemplate is ss's pod template as the controller creates its
// pods: each claim template's persistentVolumeClaim volume (named after
// the template) replaces the template's volume of that name or is
// appended. claimVolume maps the index of each such volume to its claim
// template's.
func statefulPodTemplate(ss *appsv1.StatefulSet) (*corev1.PodTemplateSpec, map[int]int) {
	if len(ss.Spec.VolumeClaimTemplates) == 0 {
		return &ss.Spec.Template, nil
	}
	t := ss.Spec.Template.DeepCopy()
	claimVolume := map[int]int{}
	for c, ct := range ss.Spec.VolumeClaimTemplates {
		v := corev1.Volume{Name: ct.Name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: ct.Name + "-" + ss.Name + "-0"}}}
		k := slices.IndexFunc(t.Spec.Volumes, func(have corev1.Volume) bool { return have.Name == ct.Name })
		if k < 0 {
			k = len(t.Spec.Volumes)
			t.Spec.Volumes = append(t.Spec.Volumes, v)
		} else {
			t.Spec.Volumes[k] = v
		}
		claimVolume[k] = c
	}
	return t, claimVolume
}

// validateClaimTemplates checks a StatefulSet's volumeClaimTemplates: a
// name unique among them, and a spec the API accepts for the claims the
// controller makes from it (validatePersistentVolumeClaim).
func validateClaimTemplates(cts []corev1.PersistentVolumeClaim, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, ct := range cts {
		p := path.Index(i)
		switch {
		case ct.Name == "":
			errs = append(errs, field.Required(p.Child("metadata", "name"), ""))
		case seen[ct.Name]:
			errs = append(errs, field.Duplicate(p.Child("metadata", "name"), ct.Name))
		}
		seen[ct.Name] = true
		for _, e := range validatePersistentVolumeClaim(&ct, nil) {
			ne := *e
			ne.Field = p.String() + "." + e.Field
			errs = append(errs, &ne)
		}
	}
	return errs
}

// validateControllerRevision checks a ControllerRevision as
// kube-apiserver does: data is required and never changes; the revision
// number is not negative.
func validateControllerRevision(cr, old *appsv1.ControllerRevision) field.ErrorList {
	errs := nonNegative(cr.Revision, field.NewPath("revision"))
	if cr.Data.Raw == nil && cr.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	if old != nil && !apiequality.Semantic.DeepEqual(cr.Data, old.Data) {
		errs = append(errs, field.Invalid(field.NewPath("data"), "", "field is immutable"))
	}
	return errs
}

func nonNegative(v int64, path *field.Path) field.ErrorList {
	if v < 0 {
		return field.ErrorList{field.Invalid(path, v, "must be greater than or equal to 0")}
	}
	return nil
}

// intOrPercent checks a non-negative integer or a percentage of at most
// 100%, as kube's ValidatePositiveIntOrPercent and IsNotMoreThan100Percent.
func intOrPercent(v *intstr.IntOrString, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == intstr.String {
		if !percentRE.MatchString(v.StrVal) {
			return field.ErrorList{field.Invalid(path, v.StrVal, "must be an integer or percentage (e.g '5%')")}
		}
		if intOrPercentValue(v) > 100 {
			return field.ErrorList{field.Invalid(path, v.StrVal, "must not be greater than 100%")}
		}
		return nil
	}
	return nonNegative(int64(v.IntVal), path)
}

var percentRE = regexp.MustCompile(`^[0-9]+%$`)

// intOrPercentValue is the number of an integer or of a percentage.
func intOrPercentValue(v *intstr.IntOrString) int {
	if v == nil {
		return 0
	}
	if v.Type == intstr.Int {
		return int(v.IntVal)
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n
}

// cronJobNameMax is kube's limit on a CronJob's name: its Jobs are named
// <name>-<minutes since the epoch> (11 digits) within 63 characters.
const cronJobNameMax = 52

// validateCronJob checks a CronJob as kube-apiserver's ValidateCronJob
// does: the schedule parses as a standard cron line without TZ, the time
// zone is an IANA name, the job template is a valid Job spec.
func validateCronJob(cj, old *batchv1.CronJob) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if len(cj.Name) > cronJobNameMax {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, fmt.Sprintf("must be no more than %d characters", cronJobNameMax)))
	}
	errs = append(errs, validateSchedule(cj.Spec.Schedule, cj.Spec.TimeZone, spec)...)
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	case "":
		errs = append(errs, field.Required(spec.Child("concurrencyPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(spec.Child("concurrencyPolicy"), cj.Spec.ConcurrencyPolicy,
			[]batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	for name, v := range map[string]*int64{"startingDeadlineSeconds": cj.Spec.StartingDeadlineSeconds} {
		if v != nil {
			errs = append(errs, nonNegative(*v, spec.Child(name))...)
		}
	}
	for name, v := range map[string]*int32{"successfulJobsHistoryLimit": cj.Spec.SuccessfulJobsHistoryLimit, "failedJobsHistoryLimit": cj.Spec.FailedJobsHistoryLimit} {
		if v != nil {
			errs = append(errs, nonNegative(int64(*v), spec.Child(name))...)
		}
	}
	var oldTmpl *corev1.PodTemplateSpec
	if old != nil {
		oldTmpl = &old.Spec.JobTemplate.Spec.Template
	}
	errs = append(errs, validateJobTemplate(&cj.Spec.JobTemplate.Spec, oldTmpl, spec.Child("jobTemplate", "spec"))...)
	return errs
}

// validateSchedule parses the schedule as kube's controller will (robfig
// cron's standard five fields and descriptors such as @hourly).
func validateSchedule(schedule string, tz *string, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	sp := spec.Child("schedule")
	switch {
	case schedule == "":
		errs = append(errs, field.Required(sp, ""))
	case strings.Contains(schedule, "TZ"):
		errs = append(errs, field.Invalid(sp, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	default:
		if _, err := cron.ParseStandard(schedule); err != nil {
			errs = append(errs, field.Invalid(sp, schedule, err.Error()))
		}
	}
	if tz != nil {
		tp := spec.Child("timeZone")
		if *tz == "" || strings.EqualFold(*tz, "Local") {
			errs = append(errs, field.Invalid(tp, *tz, "unknown time zone "+*tz))
		} else if _, err := time.LoadLocation(*tz); err != nil {
			errs = append(errs, field.Invalid(tp, *tz, err.Error()))
		}
	}
	return errs
}

// validateJobTemplate checks a CronJob's job template: a Job spec whose
// selector, when set, matches the pod labels (the controller otherwise
// generates one per Job), with OnFailure or Never restarts.
func validateJobTemplate(js *batchv1.JobSpec, oldTmpl *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	tp := path.Child("template")
	if js.Selector != nil {
		errs = append(errs, metavalidation.ValidateLabelSelector(js.Selector, metavalidation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
		if s, err := metav1.LabelSelectorAsSelector(js.Selector); err == nil && !s.Matches(labels.Set(js.Template.Labels)) {
			errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), js.Template.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, metavalidation.ValidateLabels(js.Template.Labels, tp.Child("metadata", "labels"))...)
	errs = append(errs, validatePodSpec(&js.Template.Spec, tp.Child("spec"))...)
	var oldSpec *corev1.PodSpec
	if oldTmpl != nil {
		oldSpec = &oldTmpl.Spec
	}
	errs = append(errs, validatePodSupportUpdate(&js.Template.Spec, oldSpec, tp.Child("spec"))...)
	if rp := js.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), rp, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	}
	for name, v := range map[string]*int32{"parallelism": js.Parallelism, "completions": js.Completions, "backoffLimit": js.BackoffLimit} {
		if v != nil {
			errs = append(errs, nonNegative(int64(*v), path.Child(name))...)
		}
	}
	if v := js.ActiveDeadlineSeconds; v != nil && *v <= 0 {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *v, "must be greater than 0"))
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
