package api

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
)

// behaviours is the table of per-kind behaviour, keyed by kind.
func behaviours() map[string]behaviour {
	sub, label := apivalidation.NameIsDNSSubdomain, apivalidation.NameIsDNSLabel
	return map[string]behaviour{
		"Namespace": {newObj: func() object { return &corev1.Namespace{} }, subs: []string{"status"}, nameFn: label,
			setDefaults: typedDefaults(defaultNamespace), fields: namespaceFields},
		"Node": {newObj: func() object { return &corev1.Node{} }, subs: []string{"status"}, nameFn: sub,
			validate: typed(validateNode), fields: nodeFields},
		"Pod": {newObj: func() object { return &corev1.Pod{} }, subs: []string{"status", "binding", "eviction", "log", "exec", "attach", "portforward"}, nameFn: sub,
			setDefaults: typedDefaults(defaultPod), validate: typed(validatePod), fields: podFields},
		"Service": {newObj: func() object { return &corev1.Service{} }, subs: []string{"status"}, nameFn: label,
			setDefaults: typedDefaults(defaultService), validate: typed(validateService), fields: serviceFields},
		"Endpoints": {newObj: func() object { return &corev1.Endpoints{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultEndpoints), validate: typed(validateEndpoints)},
		"ServiceAccount": {newObj: func() object { return &corev1.ServiceAccount{} }, subs: []string{"token"}, nameFn: sub},
		"ConfigMap": {newObj: func() object { return &corev1.ConfigMap{} }, nameFn: sub,
			validate: typed(validateConfigMap)},
		"Secret": {newObj: func() object { return &corev1.Secret{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultSecret), validate: typed(validateSecret), fields: secretFields},
		"Event": {newObj: func() object { return &corev1.Event{} }, nameFn: sub,
			validate: typed(validateEvent), fields: eventFields},
		"ResourceQuota": {newObj: func() object { return &corev1.ResourceQuota{} }, subs: []string{"status"}, nameFn: sub,
			validate: typed(validateResourceQuota)},
		"LimitRange": {newObj: func() object { return &corev1.LimitRange{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultLimitRange), validate: typed(validateLimitRange)},
		"PersistentVolume": {newObj: func() object { return &corev1.PersistentVolume{} }, subs: []string{"status"}, nameFn: sub,
			setDefaults: typedDefaults(defaultPersistentVolume), validate: typed(validatePersistentVolume)},
		"PersistentVolumeClaim": {newObj: func() object { return &corev1.PersistentVolumeClaim{} }, subs: []string{"status"}, nameFn: sub,
			setDefaults: typedDefaults(defaultPersistentVolumeClaim), validate: typed(validatePersistentVolumeClaim)},
		"StorageClass": {newObj: func() object { return &storagev1.StorageClass{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultStorageClass), validate: typed(validateStorageClass)},
		"EndpointSlice": {newObj: func() object { return &discoveryv1.EndpointSlice{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultEndpointSlice), validate: typed(validateEndpointSlice)},
		"Deployment": {newObj: func() object { return &appsv1.Deployment{} }, subs: []string{"status", "scale"}, nameFn: sub,
			setDefaults: typedDefaults(defaultDeployment), validate: typed(validateDeployment)},
		"ReplicaSet": {newObj: func() object { return &appsv1.ReplicaSet{} }, subs: []string{"status", "scale"}, nameFn: sub,
			setDefaults: typedDefaults(defaultReplicaSet), validate: typed(validateReplicaSet)},
		"DaemonSet": {newObj: func() object { return &appsv1.DaemonSet{} }, subs: []string{"status"}, nameFn: sub,
			setDefaults: typedDefaults(defaultDaemonSet), validate: typed(validateDaemonSet)},
		"StatefulSet": {newObj: func() object { return &appsv1.StatefulSet{} }, subs: []string{"status", "scale"}, nameFn: sub,
			setDefaults: typedDefaults(defaultStatefulSet), validate: typed(validateStatefulSet)},
		"ControllerRevision": {newObj: func() object { return &appsv1.ControllerRevision{} }, nameFn: sub,
			validate: typed(validateControllerRevision)},
		"Job": {newObj: func() object { return &batchv1.Job{} }, subs: []string{"status"}, nameFn: sub,
			setDefaults: typedDefaults(defaultJob), validate: typed(validateJob), fields: jobFields},
		"CronJob": {newObj: func() object { return &batchv1.CronJob{} }, subs: []string{"status"}, nameFn: sub,
			setDefaults: typedDefaults(defaultCronJob), validate: typed(validateCronJob)},
		"PodDisruptionBudget": {newObj: func() object { return &policyv1.PodDisruptionBudget{} }, subs: []string{"status"}, nameFn: sub,
			setDefaults: typedDefaults(defaultPodDisruptionBudget), validate: typed(validatePodDisruptionBudget)},
		"Lease": {newObj: func() object { return &coordinationv1.Lease{} }, nameFn: sub,
			validate: typed(validateLease)},
		"Role":        {newObj: func() object { return &rbacv1.Role{} }, nameFn: rbacName, validate: typed(validateRole)},
		"ClusterRole": {newObj: func() object { return &rbacv1.ClusterRole{} }, nameFn: rbacName, validate: typed(validateClusterRole)},
		"RoleBinding": {newObj: func() object { return &rbacv1.RoleBinding{} }, nameFn: rbacName,
			setDefaults: typedDefaults(defaultRoleBinding), validate: typed(validateRoleBinding)},
		"ClusterRoleBinding": {newObj: func() object { return &rbacv1.ClusterRoleBinding{} }, nameFn: rbacName,
			setDefaults: typedDefaults(defaultClusterRoleBinding), validate: typed(validateClusterRoleBinding)},
	}
}

// The selectable fields of each kind besides metadata.name (and
// metadata.namespace for namespaced kinds), as kube-apiserver's
// ToSelectableFields/GetAttrs build them, and the field labels its
// conversion functions accept (fieldLabels).

func eventFields(obj object) fields.Set {
	e := obj.(*corev1.Event)
	io := e.InvolvedObject
	return fields.Set{
		"involvedObject.kind": io.Kind, "involvedObject.namespace": io.Namespace, "involvedObject.name": io.Name,
		"involvedObject.uid": string(io.UID), "involvedObject.apiVersion": io.APIVersion,
		"involvedObject.resourceVersion": io.ResourceVersion, "involvedObject.fieldPath": io.FieldPath,
		"reason": e.Reason, "reportingComponent": e.ReportingController, "source": e.Source.Component, "type": e.Type,
	}
}

func secretFields(obj object) fields.Set {
	return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
}

func namespaceFields(obj object) fields.Set {
	return fields.Set{"status.phase": string(obj.(*corev1.Namespace).Status.Phase)}
}

func nodeFields(obj object) fields.Set {
	return fields.Set{"spec.unschedulable": strconv.FormatBool(obj.(*corev1.Node).Spec.Unschedulable)}
}

func serviceFields(obj object) fields.Set {
	s := obj.(*corev1.Service)
	return fields.Set{"spec.clusterIP": s.Spec.ClusterIP, "spec.type": string(s.Spec.Type)}
}

func jobFields(obj object) fields.Set {
	return fields.Set{"status.successful": strconv.Itoa(int(obj.(*batchv1.Job).Status.Succeeded))}
}

// podFields mirrors kube-apiserver's pod ToSelectableFields, which (unlike
// its field label conversion) has no status.podIPs: a selector on it sees
// the empty string.
func podFields(obj object) fields.Set {
	p := obj.(*corev1.Pod)
	podIP := ""
	if len(p.Status.PodIPs) > 0 {
		podIP = p.Status.PodIPs[0].IP
	} else {
		podIP = p.Status.PodIP
	}
	return fields.Set{
		"spec.nodeName": p.Spec.NodeName, "spec.restartPolicy": string(p.Spec.RestartPolicy),
		"spec.schedulerName": p.Spec.SchedulerName, "spec.serviceAccountName": p.Spec.ServiceAccountName,
		"spec.hostNetwork": strconv.FormatBool(p.Spec.HostNetwork), "status.phase": string(p.Status.Phase),
		"status.podIP": podIP, "status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

// fieldLabels is, per kind, the field labels kube-apiserver's
// AddFieldLabelConversionFunc accepts (renames: spec.host is the legacy
// name of a pod's spec.nodeName) and the error it gives for any other.
// Kinds not listed take runtime.DefaultMetaV1FieldSelectorConversion.
func fieldLabels() map[string]fieldLabelSet {
	notSupported := func(label string) error { return fmt.Errorf("field label not supported: %s", label) }
	meta := []string{"metadata.name", "metadata.namespace"}
	set := func(unknown func(string) error, labels ...string) fieldLabelSet {
		ok := map[string]string{}
		for _, l := range labels {
			ok[l] = l
		}
		return fieldLabelSet{labels: ok, unknown: unknown}
	}
	pod := set(notSupported, append(meta, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
		"spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
		"status.nominatedNodeName")...)
	pod.labels["spec.host"] = "spec.nodeName"
	return map[string]fieldLabelSet{
		"Pod":       pod,
		"Node":      set(notSupported, "metadata.name", "spec.unschedulable"),
		"Namespace": set(notSupported, "metadata.name", "status.phase"),
		"Event": set(notSupported, append(meta, "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
			"involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
			"reason", "reportingComponent", "source", "type")...),
		"Secret":  set(notSupported, append(meta, "type")...),
		"Service": set(notSupported, append(meta, "spec.clusterIP", "spec.type")...),
		"Job": set(func(label string) error { return fmt.Errorf("field label %q not supported for Job", label) },
			append(meta, "status.successful")...),
	}
}

// kindFieldLabels is fieldLabels, built once; never modified.
var kindFieldLabels = fieldLabels()

// fieldLabelSet is one kind's field label conversion.
type fieldLabelSet struct {
	labels  map[string]string // accepted label -> the label it selects
	unknown func(label string) error
}

// convertFieldLabel checks (and renames) one field selector label for a
// kind, as kube-apiserver's scheme.ConvertFieldLabel does.
func convertFieldLabel(kind, label, value string) (string, string, error) {
	fl, ok := kindFieldLabels[kind]
	if !ok {
		return runtime.DefaultMetaV1FieldSelectorConversion(label, value)
	}
	to, ok := fl.labels[label]
	if !ok {
		return "", "", fl.unknown(label)
	}
	return to, value, nil
}
