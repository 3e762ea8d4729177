package api

import (
	"context"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// PersistentVolume, PersistentVolumeClaim and StorageClass: kube-apiserver's
// defaults and validation for the parts weir implements, and a Forbidden
// "not supported by weir" naming every field it does not (block volumes,
// data sources, volume sources other than hostPath and local, mount
// options, expansion, provisioners other than weir's own).

// Provisioners weir's StorageClasses may name: the built-in local-path
// provisioner (control/controllers) and kube's marker for classes whose
// volumes are all created by hand.
const (
	LocalPathProvisioner = "weir.dev/local-path"
	NoProvisioner        = "kubernetes.io/no-provisioner"
)

// Default StorageClass annotations, as kube's DefaultStorageClass
// admission reads them.
const (
	isDefaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaIsDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

func notByWeir(p *field.Path, why string) *field.Error {
	return field.Forbidden(p, "not supported by weir: "+why)
}

var (
	pvAccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod}
	hostPathTypes = []corev1.HostPathType{corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
		corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev}
)

// --- defaults (kube's SetDefaults_*) ---

func defaultPersistentVolume(pv *corev1.PersistentVolume) {
	if pv.Status.Phase == "" {
		pv.Status.Phase = corev1.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &m
	}
	if hp := pv.Spec.HostPath; hp != nil && hp.Type == nil {
		t := corev1.HostPathUnset
		hp.Type = &t
	}
}

func defaultPersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) {
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = corev1.ClaimPending
	}
	if pvc.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		pvc.Spec.VolumeMode = &m
	}
}

func defaultStorageClass(sc *storagev1.StorageClass) {
	if sc.ReclaimPolicy == nil {
		p := corev1.PersistentVolumeReclaimDelete
		sc.ReclaimPolicy = &p
	}
	if sc.VolumeBindingMode == nil {
		m := storagev1.VolumeBindingImmediate
		sc.VolumeBindingMode = &m
	}
}

// IsDefaultStorageClass reports whether sc is annotated as a default class.
func IsDefaultStorageClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[isDefaultClassAnnotation] == "true" || sc.Annotations[betaIsDefaultClassAnnotation] == "true"
}

// admitDefaultStorageClass is kube's DefaultStorageClass admission: a
// claim created without spec.storageClassName gets the default class (the
// newest of several, by creation time then name), if there is one.
func (s *Server) admitDefaultStorageClass(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	if pvc.Spec.StorageClassName != nil {
		return nil
	}
	if _, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return nil
	}
	scRes := s.reg.get(storagev1.GroupName, "v1", "storageclasses")
	objs, err := s.listNamespace(ctx, scRes, "", true)
	if err != nil {
		return err
	}
	var def *storagev1.StorageClass
	for _, o := range objs {
		sc := o.(*storagev1.StorageClass)
		if !IsDefaultStorageClass(sc) {
			continue
		}
		if def == nil || sc.CreationTimestamp.After(def.CreationTimestamp.Time) ||
			(sc.CreationTimestamp.Equal(&def.CreationTimestamp) && sc.Name < def.Name) {
			def = sc
		}
	}
	if def != nil {
		name := def.Name
		pvc.Spec.StorageClassName = &name
	}
	return nil
}

// --- validation ---

// validatePersistentVolume is kube's ValidatePersistentVolume(Update)
// for hostPath and local volumes.
func validatePersistentVolume(pv, old *corev1.PersistentVolume) field.ErrorList {
	spec := field.NewPath("spec")
	s := &pv.Spec
	var errs field.ErrorList
	errs = append(errs, validateAccessModes(s.AccessModes, spec.Child("accessModes"))...)
	if len(s.Capacity) == 0 {
		errs = append(errs, field.Required(spec.Child("capacity"), ""))
	}
	if _, ok := s.Capacity[corev1.ResourceStorage]; !ok || len(s.Capacity) > 1 {
		errs = append(errs, field.NotSupported(spec.Child("capacity"), s.Capacity, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for r, q := range s.Capacity {
		errs = append(errs, positiveQuantity(q, spec.Child("capacity").Key(string(r)))...)
	}
	if s.StorageClassName != "" {
		errs = append(errs, validateClassName(s.StorageClassName, spec.Child("storageClassName"))...)
	}
	if p := s.PersistentVolumeReclaimPolicy; p != "" {
		switch p {
		case corev1.PersistentVolumeReclaimRetain, corev1.PersistentVolumeReclaimDelete:
		case corev1.PersistentVolumeReclaimRecycle:
			errs = append(errs, notByWeir(spec.Child("persistentVolumeReclaimPolicy"), "the Recycle policy is deprecated in Kubernetes; use Delete or Retain"))
		default:
			errs = append(errs, field.NotSupported(spec.Child("persistentVolumeReclaimPolicy"), p,
				[]corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain}))
		}
	}
	errs = append(errs, validateVolumeMode(s.VolumeMode, spec.Child("volumeMode"))...)
	if len(s.MountOptions) > 0 {
		errs = append(errs, notByWeir(spec.Child("mountOptions"), "hostPath and local volumes are bind mounts"))
	}
	if s.VolumeAttributesClassName != nil {
		errs = append(errs, notByWeir(spec.Child("volumeAttributesClassName"), "weir has no VolumeAttributesClasses"))
	}
	// Exactly one volume source; weir mounts hostPath and local ones.
	var sources []string
	src := reflect.ValueOf(s.PersistentVolumeSource)
	for i := 0; i < src.NumField(); i++ {
		if src.Field(i).IsNil() {
			continue
		}
		name := jsonName(src.Type().Field(i))
		sources = append(sources, name)
		if name != "hostPath" && name != "local" {
			errs = append(errs, notByWeir(spec.Child(name), "weir's nodes mount hostPath and local volumes only"))
		}
	}
	switch {
	case len(sources) == 0:
		errs = append(errs, field.Required(spec, "must specify a volume type"))
	case len(sources) > 1:
		errs = append(errs, field.Forbidden(spec.Child(sources[1]), "may not specify more than 1 volume type"))
	}
	if s.HostPath != nil {
		errs = append(errs, validateHostPath(s.HostPath, spec.Child("hostPath"))...)
	}
	if s.Local != nil {
		lp := spec.Child("local")
		errs = append(errs, validateLocalPath(s.Local.Path, lp.Child("path"))...)
		if s.Local.FSType != nil {
			errs = append(errs, notByWeir(lp.Child("fsType"), "weir does not format block devices"))
		}
		if s.NodeAffinity == nil || s.NodeAffinity.Required == nil {
			errs = append(errs, field.Required(spec.Child("nodeAffinity"), "Local volume requires node affinity"))
		}
	}
	if na := s.NodeAffinity; na != nil {
		if na.Required == nil {
			errs = append(errs, field.Required(spec.Child("nodeAffinity", "required"), "must specify required node constraints"))
		} else {
			errs = append(errs, validateNodeSelector(na.Required, spec.Child("nodeAffinity", "required"))...)
		}
	}
	if old == nil {
		return errs
	}
	if !apiequality.Semantic.DeepEqual(s.PersistentVolumeSource, old.Spec.PersistentVolumeSource) {
		errs = append(errs, field.Forbidden(spec.Child("persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"))
	}
	if !apiequality.Semantic.DeepEqual(s.VolumeMode, old.Spec.VolumeMode) {
		errs = append(errs, field.Invalid(spec.Child("volumeMode"), s.VolumeMode, "field is immutable"))
	}
	if old.Spec.NodeAffinity != nil && !apiequality.Semantic.DeepEqual(s.NodeAffinity, old.Spec.NodeAffinity) {
		errs = append(errs, field.Invalid(spec.Child("nodeAffinity"), "", "field is immutable"))
	}
	return errs
}

// validatePersistentVolumeClaim is kube's ValidatePersistentVolumeClaim(Update).
func validatePersistentVolumeClaim(pvc, old *corev1.PersistentVolumeClaim) field.ErrorList {
	spec := field.NewPath("spec")
	s := &pvc.Spec
	var errs field.ErrorList
	if len(s.AccessModes) == 0 {
		errs = append(errs, field.Required(spec.Child("accessModes"), "at least 1 access mode is required"))
	}
	errs = append(errs, validateAccessModes(s.AccessModes, spec.Child("accessModes"))...)
	if s.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
	}
	if s.StorageClassName != nil && *s.StorageClassName != "" {
		errs = append(errs, validateClassName(*s.StorageClassName, spec.Child("storageClassName"))...)
	}
	rp := spec.Child("resources", "requests")
	if q, ok := s.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(rp.Key(string(corev1.ResourceStorage)), ""))
	} else {
		errs = append(errs, positiveQuantity(q, rp.Key(string(corev1.ResourceStorage)))...)
	}
	for r := range s.Resources.Requests {
		if r != corev1.ResourceStorage {
			errs = append(errs, field.NotSupported(rp.Key(string(r)), r, []corev1.ResourceName{corev1.ResourceStorage}))
		}
	}
	errs = append(errs, validateVolumeMode(s.VolumeMode, spec.Child("volumeMode"))...)
	if s.DataSource != nil {
		errs = append(errs, notByWeir(spec.Child("dataSource"), "weir's provisioner makes empty volumes only"))
	}
	if s.DataSourceRef != nil {
		errs = append(errs, notByWeir(spec.Child("dataSourceRef"), "weir's provisioner makes empty volumes only"))
	}
	if s.VolumeAttributesClassName != nil {
		errs = append(errs, notByWeir(spec.Child("volumeAttributesClassName"), "weir has no VolumeAttributesClasses"))
	}
	if old == nil {
		return errs
	}
	// The spec is immutable but for binding: volumeName and a
	// storageClassName that was unset may be set once.
	was := old.Spec.DeepCopy()
	if was.VolumeName == "" {
		was.VolumeName = s.VolumeName
	}
	if was.StorageClassName == nil {
		was.StorageClassName = s.StorageClassName
	}
	if !apiequality.Semantic.DeepEqual(*was, *s) {
		if !apiequality.Semantic.DeepEqual(was.Resources, s.Resources) {
			errs = append(errs, notByWeir(spec.Child("resources", "requests", "storage"), "weir does not resize volumes"))
		} else {
			errs = append(errs, field.Forbidden(spec, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
		}
	}
	return errs
}

// validateStorageClass is kube's ValidateStorageClass(Update); the
// provisioner must be one weir has.
func validateStorageClass(sc, old *storagev1.StorageClass) field.ErrorList {
	var errs field.ErrorList
	pp := field.NewPath("provisioner")
	switch {
	case sc.Provisioner == "":
		errs = append(errs, field.Required(pp, ""))
	case len(sc.Provisioner) > validation.DNS1123LabelMaxLength*4: // kube: 63 per label part, qualified name overall
		errs = append(errs, field.TooLong(pp, "", validation.DNS1123LabelMaxLength*4))
	default:
		for _, msg := range validation.IsQualifiedName(strings.ToLower(sc.Provisioner)) {
			errs = append(errs, field.Invalid(pp, sc.Provisioner, msg))
		}
		if len(errs) == 0 && sc.Provisioner != LocalPathProvisioner && sc.Provisioner != NoProvisioner {
			errs = append(errs, notByWeir(pp, fmt.Sprintf("weir provisions volumes with %s only (or %s for volumes created by hand)", LocalPathProvisioner, NoProvisioner)))
		}
	}
	for k := range sc.Parameters {
		if k == "" {
			errs = append(errs, field.Required(field.NewPath("parameters"), "parameter key must not be empty"))
		}
	}
	if len(sc.Parameters) > 0 {
		errs = append(errs, notByWeir(field.NewPath("parameters"), sc.Provisioner+" takes no parameters"))
	}
	if p := sc.ReclaimPolicy; p != nil && *p != corev1.PersistentVolumeReclaimDelete && *p != corev1.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *p,
			[]corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain}))
	}
	if m := sc.VolumeBindingMode; m == nil {
		errs = append(errs, field.Required(field.NewPath("volumeBindingMode"), ""))
	} else if *m != storagev1.VolumeBindingImmediate && *m != storagev1.VolumeBindingWaitForFirstConsumer {
		errs = append(errs, field.NotSupported(field.NewPath("volumeBindingMode"), *m,
			[]storagev1.VolumeBindingMode{storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer}))
	} else if *m == storagev1.VolumeBindingImmediate && sc.Provisioner == LocalPathProvisioner {
		errs = append(errs, notByWeir(field.NewPath("volumeBindingMode"), fmt.Sprintf(
			"%s makes a volume on the node its first pod is scheduled to: set volumeBindingMode: WaitForFirstConsumer", LocalPathProvisioner)))
	}
	if len(sc.MountOptions) > 0 {
		errs = append(errs, notByWeir(field.NewPath("mountOptions"), "weir's volumes are bind mounts"))
	}
	if sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion {
		errs = append(errs, notByWeir(field.NewPath("allowVolumeExpansion"), "weir does not resize volumes"))
	}
	if len(sc.AllowedTopologies) > 0 {
		errs = append(errs, notByWeir(field.NewPath("allowedTopologies"), "weir's local volumes live on the node their first pod runs on"))
	}
	if old == nil {
		return errs
	}
	if !apiequality.Semantic.DeepEqual(sc.Parameters, old.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != old.Provisioner {
		errs = append(errs, field.Forbidden(pp, "updates to provisioner are forbidden."))
	}
	if !apiequality.Semantic.DeepEqual(sc.ReclaimPolicy, old.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	if !apiequality.Semantic.DeepEqual(sc.VolumeBindingMode, old.VolumeBindingMode) {
		errs = append(errs, field.Invalid(field.NewPath("volumeBindingMode"), sc.VolumeBindingMode, "field is immutable"))
	}
	return errs
}

func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "")}
	}
	for _, m := range modes {
		switch {
		case !slices.Contains(pvAccessModes, m):
			errs = append(errs, field.NotSupported(p, m, pvAccessModes))
		case m == corev1.ReadWriteOncePod:
			errs = append(errs, notByWeir(p, "ReadWriteOncePod: the node agent does not keep a volume to one pod"))
		}
	}
	if slices.Contains(modes, corev1.ReadWriteOncePod) && len(modes) > 1 {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func validateVolumeMode(m *corev1.PersistentVolumeMode, p *field.Path) field.ErrorList {
	switch {
	case m == nil || *m == corev1.PersistentVolumeFilesystem:
		return nil
	case *m == corev1.PersistentVolumeBlock:
		return field.ErrorList{notByWeir(p, "block volumes; weir's volumes are directories (volumeMode Filesystem)")}
	}
	return field.ErrorList{field.NotSupported(p, *m, []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem})}
}

func validateClassName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func positiveQuantity(q apiresource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than zero")}
	}
	return nil
}

// validateHostPath is kube's validateHostPathVolumeSource.
func validateHostPath(hp *corev1.HostPathVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if hp.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	} else if slices.Contains(strings.Split(hp.Path, "/"), "..") {
		errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must not contain '..'"))
	}
	if hp.Type != nil && !slices.Contains(hostPathTypes, *hp.Type) {
		errs = append(errs, field.NotSupported(p.Child("type"), *hp.Type, hostPathTypes))
	}
	return errs
}

// validateLocalPath: a local volume's path is absolute and has no "..".
func validateLocalPath(lp string, p *field.Path) field.ErrorList {
	switch {
	case lp == "":
		return field.ErrorList{field.Required(p, "")}
	case !path.IsAbs(lp):
		return field.ErrorList{field.Invalid(p, lp, "must be an absolute path")}
	case slices.Contains(strings.Split(lp, "/"), ".."):
		return field.ErrorList{field.Invalid(p, lp, "must not contain '..'")}
	}
	return nil
}

// validateNodeSelector checks a required node selector: at least one
// term, each parseable as kube-scheduler parses it.
func validateNodeSelector(ns *corev1.NodeSelector, p *field.Path) field.ErrorList {
	if len(ns.NodeSelectorTerms) == 0 {
		return field.ErrorList{field.Required(p.Child("nodeSelectorTerms"), "must have at least one node selector term")}
	}
	if _, err := nodeaffinity.NewNodeSelector(ns, field.WithPath(p)); err != nil {
		if agg, ok := err.(utilerrors.Aggregate); ok {
			var errs field.ErrorList
			for _, e := range agg.Errors() {
				if fe, ok := e.(*field.Error); ok {
					errs = append(errs, fe)
				}
			}
			if len(errs) > 0 {
				return errs
			}
		}
		return field.ErrorList{field.Invalid(p, "", err.Error())}
	}
	return nil
}

// jsonName is a struct field's JSON name.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}
