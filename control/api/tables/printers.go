package tables

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	discoveryv1beta1 "k8s.io/api/discovery/v1beta1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// The column descriptions are the ones kube-apiserver sends: the API
// types' swagger docs (of the same k8s.io/api release), some from the
// legacy groups the printers were first written against.
var objectMetaDoc = metav1.ObjectMeta{}.SwaggerDoc()

var (
	nameColumn       = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]}
	ageColumn        = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: objectMetaDoc["creationTimestamp"]}
	containersColumn = metav1.TableColumnDefinition{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."}
	imagesColumn     = metav1.TableColumnDefinition{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."}
)

// kindOf finds the printer of obj's kind (an object or its list).
func kindOf(obj runtime.Object) (*kind, bool) {
	switch obj.(type) {
	case *corev1.Pod, *corev1.PodList:
		return &podKind, true
	case *corev1.Namespace, *corev1.NamespaceList:
		return &namespaceKind, true
	case *corev1.Node, *corev1.NodeList:
		return &nodeKind, true
	case *corev1.Service, *corev1.ServiceList:
		return &serviceKind, true
	case *corev1.Endpoints, *corev1.EndpointsList:
		return &endpointsKind, true
	case *corev1.ServiceAccount, *corev1.ServiceAccountList:
		return &serviceAccountKind, true
	case *corev1.ConfigMap, *corev1.ConfigMapList:
		return &configMapKind, true
	case *corev1.Secret, *corev1.SecretList:
		return &secretKind, true
	case *corev1.Event, *corev1.EventList:
		return &eventKind, true
	case *corev1.PersistentVolumeClaim, *corev1.PersistentVolumeClaimList:
		return &pvcKind, true
	case *corev1.PersistentVolume, *corev1.PersistentVolumeList:
		return &pvKind, true
	case *storagev1.StorageClass, *storagev1.StorageClassList:
		return &storageClassKind, true
	case *corev1.ResourceQuota, *corev1.ResourceQuotaList:
		return &resourceQuotaKind, true
	case *discoveryv1.EndpointSlice, *discoveryv1.EndpointSliceList:
		return &endpointSliceKind, true
	case *appsv1.Deployment, *appsv1.DeploymentList:
		return &deploymentKind, true
	case *appsv1.ReplicaSet, *appsv1.ReplicaSetList:
		return &replicaSetKind, true
	case *appsv1.DaemonSet, *appsv1.DaemonSetList:
		return &daemonSetKind, true
	case *appsv1.StatefulSet, *appsv1.StatefulSetList:
		return &statefulSetKind, true
	case *appsv1.ControllerRevision, *appsv1.ControllerRevisionList:
		return &controllerRevisionKind, true
	case *batchv1.Job, *batchv1.JobList:
		return &jobKind, true
	case *batchv1.CronJob, *batchv1.CronJobList:
		return &cronJobKind, true
	case *networkingv1.NetworkPolicy, *networkingv1.NetworkPolicyList:
		return &networkPolicyKind, true
	case *rbacv1.RoleBinding, *rbacv1.RoleBindingList:
		return &roleBindingKind, true
	case *rbacv1.ClusterRoleBinding, *rbacv1.ClusterRoleBindingList:
		return &clusterRoleBindingKind, true
	case *coordinationv1.Lease, *coordinationv1.LeaseList:
		return &leaseKind, true
	case *policyv1.PodDisruptionBudget, *policyv1.PodDisruptionBudgetList:
		return &pdbKind, true
	}
	// Role, ClusterRole, LimitRange and anything else: the default table.
	return nil, false
}

func cells(c ...interface{}) metav1.TableRow { return metav1.TableRow{Cells: c} }

// --- core/v1 ---

var namespaceKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Status", Type: "string", Description: "The status of the namespace"},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		ns := obj.(*corev1.Namespace)
		return cells(ns.Name, string(ns.Status.Phase), p.age(ns.CreationTimestamp))
	},
}

var nodeKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Status", Type: "string", Description: "The status of the node"},
		{Name: "Roles", Type: "string", Description: "The roles of the node"},
		ageColumn,
		{Name: "Version", Type: "string", Description: corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]},
		{Name: "Internal-IP", Type: "string", Priority: 1, Description: corev1.NodeStatus{}.SwaggerDoc()["addresses"]},
		{Name: "External-IP", Type: "string", Priority: 1, Description: corev1.NodeStatus{}.SwaggerDoc()["addresses"]},
		{Name: "OS-Image", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]},
		{Name: "Kernel-Version", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]},
		{Name: "Container-Runtime", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		n := obj.(*corev1.Node)
		var status []string
		// Only the Ready condition counts, its last entry winning.
		var ready *corev1.NodeCondition
		for i := range n.Status.Conditions {
			if n.Status.Conditions[i].Type == corev1.NodeReady {
				ready = &n.Status.Conditions[i]
			}
		}
		switch {
		case ready == nil:
			status = append(status, "Unknown")
		case ready.Status == corev1.ConditionTrue:
			status = append(status, string(corev1.NodeReady))
		default:
			status = append(status, "Not"+string(corev1.NodeReady))
		}
		if n.Spec.Unschedulable {
			status = append(status, "SchedulingDisabled")
		}
		roles := strings.Join(nodeRoles(n.Labels), ",")
		if roles == "" {
			roles = "<none>"
		}
		info := n.Status.NodeInfo
		return cells(n.Name, strings.Join(status, ","), roles, p.age(n.CreationTimestamp), info.KubeletVersion,
			nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
			orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion))
	},
}

// nodeRoles reads the roles from node-role.kubernetes.io/<role> label keys
// and the value of a kubernetes.io/role label, sorted and unique.
func nodeRoles(l map[string]string) []string {
	const prefix, legacy = "node-role.kubernetes.io/", "kubernetes.io/role"
	set := map[string]bool{}
	for k, v := range l {
		switch {
		case strings.HasPrefix(k, prefix):
			if role := strings.TrimPrefix(k, prefix); role != "" {
				set[role] = true
			}
		case k == legacy && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

var serviceKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Type", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["type"]},
		{Name: "Cluster-IP", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]},
		{Name: "External-IP", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]},
		{Name: "Port(s)", Type: "string", Description: corev1.ServiceSpec{}.SwaggerDoc()["ports"]},
		ageColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: corev1.ServiceSpec{}.SwaggerDoc()["selector"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		svc := obj.(*corev1.Service)
		clusterIP := "<none>"
		// kube-apiserver defaults clusterIPs from clusterIP; read either.
		if len(svc.Spec.ClusterIPs) > 0 {
			clusterIP = svc.Spec.ClusterIPs[0]
		} else if svc.Spec.ClusterIP != "" {
			clusterIP = svc.Spec.ClusterIP
		}
		ports := servicePorts(svc.Spec.Ports)
		if ports == "" {
			ports = "<none>"
		}
		svcType := svc.Spec.Type
		if svcType == "" {
			svcType = corev1.ServiceTypeClusterIP // kube-apiserver's default
		}
		return cells(svc.Name, string(svcType), clusterIP, serviceExternalIP(svc, svcType), ports,
			p.age(svc.CreationTimestamp), labels.FormatLabels(svc.Spec.Selector))
	},
}

// serviceExternalIP is the External-IP cell: the external IPs, a load
// balancer's ingress IPs or host names (then "<pending>" while it has none),
// or an ExternalName service's name. The server prints wide, so load
// balancer addresses are never clipped.
func serviceExternalIP(svc *corev1.Service, svcType corev1.ServiceType) string {
	switch svcType {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		set := map[string]bool{}
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				set[in.IP] = true
			} else if in.Hostname != "" {
				set[in.Hostname] = true
			}
		}
		lb := make([]string, 0, len(set))
		for a := range set {
			lb = append(lb, a)
		}
		sort.Strings(lb)
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(append(lb, svc.Spec.ExternalIPs...), ",")
		}
		if len(lb) > 0 {
			return strings.Join(lb, ",")
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// servicePorts is "80/TCP,443:30443/TCP" (port[:nodePort]/protocol).
func servicePorts(ports []corev1.ServicePort) string {
	parts := make([]string, len(ports))
	for i, port := range ports {
		proto := port.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP // kube-apiserver's default
		}
		if port.NodePort > 0 {
			parts[i] = fmt.Sprintf("%d:%d/%s", port.Port, port.NodePort, proto)
		} else {
			parts[i] = fmt.Sprintf("%d/%s", port.Port, proto)
		}
	}
	return strings.Join(parts, ",")
}

var endpointsKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Endpoints", Type: "string", Description: corev1.Endpoints{}.SwaggerDoc()["subsets"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		ep := obj.(*corev1.Endpoints)
		return cells(ep.Name, formatEndpoints(ep), p.age(ep.CreationTimestamp))
	},
}

// formatEndpoints lists up to three ip:port (or ip, for a subset without
// ports) and counts the rest as " + N more...".
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	const max = 3
	var list []string
	count := 0
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					break
				}
				list = append(list, a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					break
				}
				list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	s := strings.Join(list, ",")
	if count > max {
		return fmt.Sprintf("%s + %d more...", s, count-max)
	}
	return s
}

var serviceAccountKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Secrets", Type: "string", Description: corev1.ServiceAccount{}.SwaggerDoc()["secrets"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		sa := obj.(*corev1.ServiceAccount)
		return cells(sa.Name, int64(len(sa.Secrets)), p.age(sa.CreationTimestamp))
	},
}

var configMapKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Data", Type: "string", Description: corev1.ConfigMap{}.SwaggerDoc()["data"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		cm := obj.(*corev1.ConfigMap)
		return cells(cm.Name, int64(len(cm.Data)+len(cm.BinaryData)), p.age(cm.CreationTimestamp))
	},
}

var secretKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Type", Type: "string", Description: corev1.Secret{}.SwaggerDoc()["type"]},
		{Name: "Data", Type: "string", Description: corev1.Secret{}.SwaggerDoc()["data"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		s := obj.(*corev1.Secret)
		// kube-apiserver merges stringData into data before printing.
		n := len(s.Data)
		for k := range s.StringData {
			if _, dup := s.Data[k]; !dup {
				n++
			}
		}
		return cells(s.Name, string(s.Type), int64(n), p.age(s.CreationTimestamp))
	},
}

var eventKind = kind{
	columns: []metav1.TableColumnDefinition{
		{Name: "Last Seen", Type: "string", Description: corev1.Event{}.SwaggerDoc()["lastTimestamp"]},
		{Name: "Type", Type: "string", Description: corev1.Event{}.SwaggerDoc()["type"]},
		{Name: "Reason", Type: "string", Description: corev1.Event{}.SwaggerDoc()["reason"]},
		{Name: "Object", Type: "string", Description: corev1.Event{}.SwaggerDoc()["involvedObject"]},
		{Name: "Subobject", Type: "string", Priority: 1, Description: corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]},
		{Name: "Source", Type: "string", Priority: 1, Description: corev1.Event{}.SwaggerDoc()["source"]},
		{Name: "Message", Type: "string", Description: corev1.Event{}.SwaggerDoc()["message"]},
		{Name: "First Seen", Type: "string", Priority: 1, Description: corev1.Event{}.SwaggerDoc()["firstTimestamp"]},
		{Name: "Count", Type: "string", Priority: 1, Description: corev1.Event{}.SwaggerDoc()["count"]},
		{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: objectMetaDoc["name"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		e := obj.(*corev1.Event)
		first := p.age(e.FirstTimestamp)
		if e.FirstTimestamp.IsZero() {
			first = p.microAge(e.EventTime)
		}
		last := p.age(e.LastTimestamp)
		if e.LastTimestamp.IsZero() {
			last = first
		}
		count := e.Count
		if e.Series != nil {
			last = p.microAge(e.Series.LastObservedTime)
			count = e.Series.Count
		} else if count == 0 {
			count = 1 // a singleton event of the events.k8s.io API
		}
		target := strings.ToLower(e.InvolvedObject.Kind)
		if e.InvolvedObject.Name != "" {
			target += "/" + e.InvolvedObject.Name
		}
		component := firstNonEmpty(e.Source.Component, e.ReportingController)
		source := component
		if instance := firstNonEmpty(e.Source.Host, e.ReportingInstance); instance != "" {
			source = component + ", " + instance
		}
		return cells(last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath, source,
			strings.TrimSpace(e.Message), first, int64(count), e.Name)
	},
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var pvcKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Status", Type: "string", Description: corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"]},
		{Name: "Volume", Type: "string", Description: corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeName"]},
		{Name: "Capacity", Type: "string", Description: corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"]},
		{Name: "Access Modes", Type: "string", Description: corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"]},
		{Name: "StorageClass", Type: "string", Description: "StorageClass of the pvc"},
		{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pvc"},
		ageColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeMode"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		c := obj.(*corev1.PersistentVolumeClaim)
		phase := string(c.Status.Phase)
		if c.DeletionTimestamp != nil {
			phase = "Terminating"
		}
		var capacity, modes string
		if c.Spec.VolumeName != "" {
			modes = accessModes(c.Status.AccessModes)
			q := c.Status.Capacity[corev1.ResourceStorage]
			capacity = q.String()
		}
		class := ""
		if v, ok := c.Annotations[corev1.BetaStorageClassAnnotation]; ok {
			class = v
		} else if c.Spec.StorageClassName != nil {
			class = *c.Spec.StorageClassName
		}
		vac := "<unset>"
		if c.Spec.VolumeAttributesClassName != nil {
			vac = *c.Spec.VolumeAttributesClassName
		}
		mode := string(corev1.PersistentVolumeFilesystem) // kube-apiserver's default
		if c.Spec.VolumeMode != nil {
			mode = string(*c.Spec.VolumeMode)
		}
		return cells(c.Name, phase, c.Spec.VolumeName, capacity, modes, class, vac, p.age(c.CreationTimestamp), mode)
	},
}

// pvKind: the claim as namespace/name, the class from the beta
// annotation first, as kube's printer does.
var pvKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Capacity", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["capacity"]},
		{Name: "Access Modes", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["accessModes"]},
		{Name: "Reclaim Policy", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["persistentVolumeReclaimPolicy"]},
		{Name: "Status", Type: "string", Description: corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"]},
		{Name: "Claim", Type: "string", Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["claimRef"]},
		{Name: "StorageClass", Type: "string", Description: "StorageClass of the pv"},
		{Name: "VolumeAttributesClass", Type: "string", Description: "VolumeAttributesClass of the pv"},
		{Name: "Reason", Type: "string", Description: corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"]},
		ageColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: corev1.PersistentVolumeSpec{}.SwaggerDoc()["volumeMode"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		pv := obj.(*corev1.PersistentVolume)
		claim := ""
		if r := pv.Spec.ClaimRef; r != nil {
			claim = r.Namespace + "/" + r.Name
		}
		q := pv.Spec.Capacity[corev1.ResourceStorage]
		phase := string(pv.Status.Phase)
		if pv.DeletionTimestamp != nil {
			phase = "Terminating"
		}
		class := pv.Spec.StorageClassName
		if v, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
			class = v
		}
		vac, mode := "<unset>", "<unset>"
		if pv.Spec.VolumeAttributesClassName != nil {
			vac = *pv.Spec.VolumeAttributesClassName
		}
		if pv.Spec.VolumeMode != nil {
			mode = string(*pv.Spec.VolumeMode)
		}
		return cells(pv.Name, q.String(), accessModes(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
			phase, claim, class, vac, pv.Status.Reason, p.age(pv.CreationTimestamp), mode)
	},
}

// storageClassKind: "(default)" after a default class's name; the
// policy and mode kube-apiserver defaults when they are unset.
var storageClassKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Provisioner", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["provisioner"]},
		{Name: "ReclaimPolicy", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["reclaimPolicy"]},
		{Name: "VolumeBindingMode", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["volumeBindingMode"]},
		{Name: "AllowVolumeExpansion", Type: "string", Description: storagev1.StorageClass{}.SwaggerDoc()["allowVolumeExpansion"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		sc := obj.(*storagev1.StorageClass)
		name := sc.Name
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" ||
			sc.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true" {
			name += " (default)"
		}
		policy, mode, expand := string(corev1.PersistentVolumeReclaimDelete), string(storagev1.VolumeBindingImmediate), false
		if sc.ReclaimPolicy != nil {
			policy = string(*sc.ReclaimPolicy)
		}
		if sc.VolumeBindingMode != nil {
			mode = string(*sc.VolumeBindingMode)
		}
		if sc.AllowVolumeExpansion != nil {
			expand = *sc.AllowVolumeExpansion
		}
		return cells(name, sc.Provisioner, policy, mode, expand, p.age(sc.CreationTimestamp))
	},
}

// accessModes abbreviates access modes in a fixed order: RWO,ROX,RWX,RWOP.
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"}, {corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"}, {corev1.ReadWriteOncePod, "RWOP"},
	} {
		if slices.Contains(modes, m.mode) {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}

var resourceQuotaKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Request", Type: "string", Description: "Request represents a minimum amount of cpu/memory that a container may consume."},
		{Name: "Limit", Type: "string", Description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		q := obj.(*corev1.ResourceQuota)
		names := make([]string, 0, len(q.Status.Hard))
		for n := range q.Status.Hard {
			names = append(names, string(n))
		}
		sort.Strings(names)
		var request, limit []string
		for _, n := range names {
			used := q.Status.Used[corev1.ResourceName(n)]
			hard := q.Status.Hard[corev1.ResourceName(n)]
			s := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
			if pieces := strings.Split(n, "."); len(pieces) > 1 && pieces[0] == "limits" {
				limit = append(limit, s)
			} else {
				request = append(request, s)
			}
		}
		return cells(q.Name, strings.Join(request, ", "), strings.Join(limit, ", "), p.age(q.CreationTimestamp))
	},
}

// --- discovery.k8s.io/v1 ---

var endpointSliceKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "AddressType", Type: "string", Description: discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["addressType"]},
		{Name: "Ports", Type: "string", Description: discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["ports"]},
		{Name: "Endpoints", Type: "string", Description: discoveryv1beta1.EndpointSlice{}.SwaggerDoc()["endpoints"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		s := obj.(*discoveryv1.EndpointSlice)
		var ports, addrs []string
		for _, port := range s.Ports {
			switch {
			case port.Port != nil:
				ports = append(ports, strconv.Itoa(int(*port.Port)))
			case port.Name != nil:
				ports = append(ports, *port.Name)
			default:
				ports = append(ports, "*")
			}
		}
		for _, ep := range s.Endpoints {
			addrs = append(addrs, ep.Addresses...)
		}
		return cells(s.Name, string(s.AddressType), firstThree(ports), firstThree(addrs), p.age(s.CreationTimestamp))
	},
}

// firstThree joins up to three items with "," and counts the rest as
// " + N more..."; an empty list is "<unset>".
func firstThree(items []string) string {
	const max = 3
	if len(items) > max {
		return fmt.Sprintf("%s + %d more...", strings.Join(items[:max], ","), len(items)-max)
	}
	if len(items) == 0 {
		return "<unset>"
	}
	return strings.Join(items, ",")
}

// --- apps/v1 ---

// replicas is a workload's spec.replicas, with kube-apiserver's default (1).
func replicas(r *int32) int64 {
	if r == nil {
		return 1
	}
	return int64(*r)
}

// containerCells are the wide Containers and Images cells: the template's
// container names and images, comma-separated.
func containerCells(cs []corev1.Container) (names, images string) {
	n := make([]string, len(cs))
	im := make([]string, len(cs))
	for i, c := range cs {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

var deploymentKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		{Name: "Up-to-date", Type: "string", Description: extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]},
		{Name: "Available", Type: "string", Description: extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		d := obj.(*appsv1.Deployment)
		selector := "<invalid>"
		if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
			selector = s.String()
		}
		names, images := containerCells(d.Spec.Template.Spec.Containers)
		return cells(d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), p.age(d.CreationTimestamp),
			names, images, selector)
	},
}

var replicaSetKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Desired", Type: "integer", Description: extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]},
		{Name: "Current", Type: "integer", Description: extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]},
		{Name: "Ready", Type: "integer", Description: extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["selector"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		rs := obj.(*appsv1.ReplicaSet)
		names, images := containerCells(rs.Spec.Template.Spec.Containers)
		return cells(rs.Name, replicas(rs.Spec.Replicas), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
			p.age(rs.CreationTimestamp), names, images, metav1.FormatLabelSelector(rs.Spec.Selector))
	},
}

var daemonSetKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Desired", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"]},
		{Name: "Current", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"]},
		{Name: "Ready", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberReady"]},
		{Name: "Up-to-date", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"]},
		{Name: "Available", Type: "integer", Description: extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"]},
		{Name: "Node Selector", Type: "string", Description: corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		ds := obj.(*appsv1.DaemonSet)
		st := ds.Status
		names, images := containerCells(ds.Spec.Template.Spec.Containers)
		return cells(ds.Name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
			int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable), labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
			p.age(ds.CreationTimestamp), names, images, metav1.FormatLabelSelector(ds.Spec.Selector))
	},
}

var statefulSetKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		ageColumn,
		containersColumn,
		imagesColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		ss := obj.(*appsv1.StatefulSet)
		names, images := containerCells(ss.Spec.Template.Spec.Containers)
		return cells(ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)),
			p.age(ss.CreationTimestamp), names, images)
	},
}

// --- batch/v1 ---

// controllerRevisionKind: the controller as <kind>.<group>/<name>, as
// kube's printer formats it.
var controllerRevisionKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Controller", Type: "string", Description: "Controller of the object"},
		{Name: "Revision", Type: "integer", Description: appsv1.ControllerRevision{}.SwaggerDoc()["revision"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		cr := obj.(*appsv1.ControllerRevision)
		controller := "<none>"
		if r := metav1.GetControllerOf(cr); r != nil {
			gv, _ := schema.ParseGroupVersion(r.APIVersion)
			controller = strings.ToLower(gv.WithKind(r.Kind).GroupKind().String()) + "/" + r.Name
		}
		return cells(cr.Name, controller, cr.Revision, p.age(cr.CreationTimestamp))
	},
}

var jobKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Status", Type: "string", Description: "Status of the job."},
		{Name: "Completions", Type: "string", Description: batchv1.JobStatus{}.SwaggerDoc()["succeeded"]},
		{Name: "Duration", Type: "string", Description: "Time required to complete the job."},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		j := obj.(*batchv1.Job)
		var completions string
		if j.Spec.Completions != nil {
			completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
		} else if j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1 {
			completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
		} else {
			completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
		}
		var took string
		switch {
		case j.Status.StartTime == nil:
		case j.Status.CompletionTime == nil:
			took = duration.HumanDuration(p.now.Sub(j.Status.StartTime.Time))
		default:
			took = duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
		}
		var status string
		switch {
		case jobCondition(j, batchv1.JobComplete):
			status = "Complete"
		case jobCondition(j, batchv1.JobFailed):
			status = "Failed"
		case j.DeletionTimestamp != nil:
			status = "Terminating"
		case jobCondition(j, batchv1.JobSuspended):
			status = "Suspended"
		case jobCondition(j, batchv1.JobFailureTarget):
			status = "FailureTarget"
		default:
			status = "Running"
		}
		names, images := containerCells(j.Spec.Template.Spec.Containers)
		return cells(j.Name, status, completions, took, p.age(j.CreationTimestamp),
			names, images, metav1.FormatLabelSelector(j.Spec.Selector))
	},
}

// jobCondition reports whether the first condition of type t is True.
func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

var cronJobKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Schedule", Type: "string", Description: batchv1beta1.CronJobSpec{}.SwaggerDoc()["schedule"]},
		{Name: "Timezone", Type: "string", Description: batchv1beta1.CronJobSpec{}.SwaggerDoc()["timeZone"]},
		{Name: "Suspend", Type: "boolean", Description: batchv1beta1.CronJobSpec{}.SwaggerDoc()["suspend"]},
		{Name: "Active", Type: "integer", Description: batchv1beta1.CronJobStatus{}.SwaggerDoc()["active"]},
		{Name: "Last Schedule", Type: "string", Description: batchv1beta1.CronJobStatus{}.SwaggerDoc()["lastScheduleTime"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]},
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		cj := obj.(*batchv1.CronJob)
		last := "<none>"
		if cj.Status.LastScheduleTime != nil {
			last = p.age(*cj.Status.LastScheduleTime)
		}
		tz := "<none>"
		if cj.Spec.TimeZone != nil {
			tz = *cj.Spec.TimeZone
		}
		suspend := "False" // kube-apiserver defaults spec.suspend to false
		if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
			suspend = "True"
		}
		tmpl := cj.Spec.JobTemplate.Spec
		names, images := containerCells(tmpl.Template.Spec.Containers)
		return cells(cj.Name, cj.Spec.Schedule, tz, suspend, int64(len(cj.Status.Active)), last,
			p.age(cj.CreationTimestamp), names, images, metav1.FormatLabelSelector(tmpl.Selector))
	},
}

// --- networking, rbac, coordination, policy ---

var networkPolicyKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Pod-Selector", Type: "string", Description: extensionsv1beta1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		np := obj.(*networkingv1.NetworkPolicy)
		return cells(np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), p.age(np.CreationTimestamp))
	},
}

func bindingColumns(what string, roleRefDoc string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Role", Type: "string", Description: roleRefDoc},
		ageColumn,
		{Name: "Users", Type: "string", Priority: 1, Description: "Users in the " + what},
		{Name: "Groups", Type: "string", Priority: 1, Description: "Groups in the " + what},
		{Name: "ServiceAccounts", Type: "string", Priority: 1, Description: "ServiceAccounts in the " + what},
	}
}

// bindingRow is the row of a RoleBinding or ClusterRoleBinding: the role
// as Kind/name and the subjects by kind (service accounts as ns/name).
func bindingRow(p *printer, m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject) metav1.TableRow {
	users, groups, sas := []string{}, []string{}, []string{}
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return cells(m.Name, ref.Kind+"/"+ref.Name, p.age(m.CreationTimestamp),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", "))
}

var roleBindingKind = kind{
	columns: bindingColumns("roleBinding", rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"]),
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		b := obj.(*rbacv1.RoleBinding)
		return bindingRow(p, b.ObjectMeta, b.RoleRef, b.Subjects)
	},
}

var clusterRoleBindingKind = kind{
	columns: bindingColumns("clusterRoleBinding", rbacv1beta1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"]),
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		b := obj.(*rbacv1.ClusterRoleBinding)
		return bindingRow(p, b.ObjectMeta, b.RoleRef, b.Subjects)
	},
}

var leaseKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Holder", Type: "string", Description: coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		l := obj.(*coordinationv1.Lease)
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return cells(l.Name, holder, p.age(l.CreationTimestamp))
	},
}

var pdbKind = kind{
	columns: []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Min Available", Type: "string", Description: "The minimum number of pods that must be available."},
		{Name: "Max Unavailable", Type: "string", Description: "The maximum number of pods that may be unavailable."},
		{Name: "Allowed Disruptions", Type: "integer", Description: "Calculated number of pods that may be disrupted at this time."},
		ageColumn,
	},
	row: func(p *printer, obj runtime.Object) metav1.TableRow {
		b := obj.(*policyv1.PodDisruptionBudget)
		minAvail, maxUnavail := "N/A", "N/A"
		if b.Spec.MinAvailable != nil {
			minAvail = b.Spec.MinAvailable.String()
		}
		if b.Spec.MaxUnavailable != nil {
			maxUnavail = b.Spec.MaxUnavailable.String()
		}
		return cells(b.Name, minAvail, maxUnavail, int64(b.Status.DisruptionsAllowed), p.age(b.CreationTimestamp))
	},
}
