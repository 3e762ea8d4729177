package api

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
)

// behaviours is the table of per-kind behaviour, keyed by kind.
func behaviours() map[string]behaviour {
	sub, label := apivalidation.NameIsDNSSubdomain, apivalidation.NameIsDNSLabel
	return map[string]behaviour{
		"Namespace": {newObj: func() object { return &corev1.Namespace{} }, subs: []string{"status"}, nameFn: label,
			setDefaults: typedDefaults(defaultNamespace), fields: namespaceFields},
		"Node": {newObj: func() object { return &corev1.Node{} }, subs: []string{"status"}, nameFn: sub,
			validate: typed(validateNode), fields: nodeFields},
		"Pod": {newObj: func() object { return &corev1.Pod{} }, subs: []string{"status", "binding", "log", "exec"}, nameFn: sub,
			setDefaults: typedDefaults(defaultPod), validate: typed(validatePod), fields: podFields},
		"Service": {newObj: func() object { return &corev1.Service{} }, subs: []string{"status"}, nameFn: label,
			setDefaults: typedDefaults(defaultService), validate: typed(validateService)},
		"Endpoints": {newObj: func() object { return &corev1.Endpoints{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultEndpoints), validate: typed(validateEndpoints)},
		"ServiceAccount": {newObj: func() object { return &corev1.ServiceAccount{} }, nameFn: sub},
		"ConfigMap": {newObj: func() object { return &corev1.ConfigMap{} }, nameFn: sub,
			validate: typed(validateConfigMap)},
		"Secret": {newObj: func() object { return &corev1.Secret{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultSecret), validate: typed(validateSecret), fields: secretFields},
		"Event": {newObj: func() object { return &corev1.Event{} }, nameFn: sub,
			validate: typed(validateEvent), fields: eventFields},
		"EndpointSlice": {newObj: func() object { return &discoveryv1.EndpointSlice{} }, nameFn: sub,
			setDefaults: typedDefaults(defaultEndpointSlice), validate: typed(validateEndpointSlice)},
		"Deployment": {newObj: func() object { return &appsv1.Deployment{} }, subs: []string{"status", "scale"}, nameFn: sub,
			setDefaults: typedDefaults(defaultDeployment), validate: typed(validateDeployment)},
		"ReplicaSet": {newObj: func() object { return &appsv1.ReplicaSet{} }, subs: []string{"status", "scale"}, nameFn: sub,
			setDefaults: typedDefaults(defaultReplicaSet), validate: typed(validateReplicaSet)},
		"Job": {newObj: func() object { return &batchv1.Job{} }, subs: []string{"status"}, nameFn: sub,
			setDefaults: typedDefaults(defaultJob), validate: typed(validateJob)},
	}
}

// The selectable fields of each kind besides metadata.name and
// metadata.namespace, as in kube-apiserver.

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

// podFields are the pod fields selectors may use besides metadata.name and
// metadata.namespace.
func podFields(obj object) fields.Set {
	p := obj.(*corev1.Pod)
	return fields.Set{"spec.nodeName": p.Spec.NodeName, "status.phase": string(p.Status.Phase)}
}
