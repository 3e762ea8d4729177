package tables

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt from the current output")

// fixture is one resource's list as a server would return it, with what
// discovery says about the resource.
type fixture struct {
	group, version, resource, kind string
	namespaced                     bool
	list                           runtime.Object
}

func (f fixture) apiPath() string {
	prefix := "/apis/" + f.group + "/" + f.version
	if f.group == "" {
		prefix = "/api/" + f.version
	}
	if f.namespaced {
		return prefix + "/namespaces/default/" + f.resource
	}
	return prefix + "/" + f.resource
}

func fixtures() []fixture {
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}, {Name: "log", Image: "busybox:1.36"}}}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
	terminating := ago(5 * time.Second)

	pods := &corev1.PodList{Items: []corev1.Pod{
		{ObjectMeta: objMeta("web-7d4b9c-x2x9q", 3*time.Hour), Spec: corev1.PodSpec{NodeName: "node-a", Containers: tmpl.Spec.Containers},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.244.1.5"}}, Conditions: []corev1.PodCondition{ready},
				ContainerStatuses: []corev1.ContainerStatus{
					{Name: "web", Ready: true, State: running(), RestartCount: 2, LastTerminationState: lastTerminated(5 * time.Minute)},
					{Name: "log", Ready: true, State: running()},
				}}},
		{ObjectMeta: objMeta("crash-0", 40*time.Minute), Spec: corev1.PodSpec{NodeName: "node-b", Containers: tmpl.Spec.Containers[:1]},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.2.9",
				ContainerStatuses: []corev1.ContainerStatus{{Name: "web", State: waiting("CrashLoopBackOff"), RestartCount: 12, LastTerminationState: lastTerminated(90 * time.Second)}}}},
		{ObjectMeta: objMeta("setup-1", 20*time.Second), Spec: corev1.PodSpec{NodeName: "node-a",
			InitContainers: []corev1.Container{{Name: "migrate"}, {Name: "proxy", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}, Containers: tmpl.Spec.Containers[:1]},
			Status: corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", State: running()}, {Name: "proxy", State: waiting("PodInitializing")}}}},
		{ObjectMeta: objMeta("pending-2", 2*time.Second), Spec: corev1.PodSpec{Containers: tmpl.Spec.Containers[:1],
			ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, NominatedNodeName: "node-c"}},
		{ObjectMeta: func() metav1.ObjectMeta {
			m := objMeta("old-1", 26*time.Hour)
			m.DeletionTimestamp = &terminating
			return m
		}(),
			Spec:   corev1.PodSpec{NodeName: "node-b", Containers: tmpl.Spec.Containers[:1]},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, State: running()}}}},
		{ObjectMeta: objMeta("job-done", 8*24*time.Hour), Spec: corev1.PodSpec{NodeName: "node-a", Containers: tmpl.Spec.Containers[:1]},
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{Name: "web", State: terminated("Completed", 0, 0)}}}},
	}}

	nodes := &corev1.NodeList{Items: []corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "node-a", CreationTimestamp: ago(30 * 24 * time.Hour), Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.77.2"}},
				NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.37.2-weir", OSImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0-28-amd64", ContainerRuntimeVersion: "containerd://1.7.30"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "node-b", CreationTimestamp: ago(3 * 24 * time.Hour)}, Spec: corev1.NodeSpec{Unschedulable: true},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}},
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.77.3"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.3"}},
				NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.37.2-weir", OSImage: "Debian GNU/Linux 11 (bullseye)", KernelVersion: "5.10.0-33-amd64", ContainerRuntimeVersion: "containerd://1.7.30"}}},
	}}

	services := &corev1.ServiceList{Items: []corev1.Service{
		{ObjectMeta: objMeta("kubernetes", 30*24*time.Hour), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: []string{"10.96.0.1"},
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}}}},
		{ObjectMeta: objMeta("web", 3*time.Hour), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIPs: []string{"10.96.12.7"}, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}, {Port: 443, NodePort: 30443, Protocol: corev1.ProtocolTCP}}}},
		{ObjectMeta: objMeta("db", 3*time.Hour), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: []string{"None"}, Selector: map[string]string{"app": "db", "tier": "data"}}},
		{ObjectMeta: objMeta("edge", time.Hour), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.40.2"},
			Ports: []corev1.ServicePort{{Port: 53, NodePort: 31053, Protocol: corev1.ProtocolUDP}}}},
		{ObjectMeta: objMeta("search", time.Hour), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "search.example.com"}},
	}}

	endpoints := &corev1.EndpointsList{Items: []corev1.Endpoints{
		{ObjectMeta: objMeta("web", 3*time.Hour), Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.244.1.5"}, {IP: "10.244.2.6"}},
			Ports:     []corev1.EndpointPort{{Port: 8080}, {Port: 8443}}}}},
		{ObjectMeta: objMeta("db", 3*time.Hour)},
	}}

	slices := &discoveryv1.EndpointSliceList{Items: []discoveryv1.EndpointSlice{
		{ObjectMeta: objMeta("web-abc12", 3*time.Hour), AddressType: discoveryv1.AddressTypeIPv4,
			Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.5"}}, {Addresses: []string{"10.244.2.6"}},
				{Addresses: []string{"10.244.2.7"}}, {Addresses: []string{"10.244.3.8"}}}},
		{ObjectMeta: objMeta("db-xyz34", 3*time.Hour), AddressType: discoveryv1.AddressTypeIPv6},
	}}

	events := &corev1.EventList{Items: []corev1.Event{
		{ObjectMeta: objMeta("crash-0.181a", 40*time.Minute), InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "crash-0", FieldPath: "spec.containers{web}"},
			Type: corev1.EventTypeWarning, Reason: "BackOff", Message: "Back-off restarting failed container web in pod crash-0",
			Source: corev1.EventSource{Component: "kubelet", Host: "node-b"}, FirstTimestamp: ago(38 * time.Minute), LastTimestamp: ago(90 * time.Second), Count: 12},
		{ObjectMeta: objMeta("web.181b", 3*time.Hour), InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"},
			Type: corev1.EventTypeNormal, Reason: "ScalingReplicaSet", Message: "Scaled up replica set web-7d4b9c from 0 to 2",
			ReportingController: "deployment-controller", EventTime: metav1.NewMicroTime(now.Add(-3 * time.Hour))},
	}}

	return []fixture{
		{"", "v1", "pods", "Pod", true, pods},
		{"", "v1", "nodes", "Node", false, nodes},
		{"", "v1", "namespaces", "Namespace", false, &corev1.NamespaceList{Items: []corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "default", CreationTimestamp: ago(30 * 24 * time.Hour)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			{ObjectMeta: metav1.ObjectMeta{Name: "old", CreationTimestamp: ago(2 * 365 * 24 * time.Hour)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
		}}},
		{"", "v1", "services", "Service", true, services},
		{"", "v1", "endpoints", "Endpoints", true, endpoints},
		{"", "v1", "serviceaccounts", "ServiceAccount", true, &corev1.ServiceAccountList{Items: []corev1.ServiceAccount{{ObjectMeta: objMeta("default", 30*24*time.Hour)}}}},
		{"", "v1", "configmaps", "ConfigMap", true, &corev1.ConfigMapList{Items: []corev1.ConfigMap{
			{ObjectMeta: objMeta("kube-root-ca.crt", 30*24*time.Hour), Data: map[string]string{"ca.crt": "x"}},
			{ObjectMeta: objMeta("web-config", 3*time.Hour), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {0}}},
		}}},
		{"", "v1", "secrets", "Secret", true, &corev1.SecretList{Items: []corev1.Secret{
			{ObjectMeta: objMeta("web-tls", 3*time.Hour), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}},
			{ObjectMeta: objMeta("token", 3*time.Hour), Type: corev1.SecretTypeOpaque},
		}}},
		{"", "v1", "events", "Event", true, events},
		{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, &corev1.PersistentVolumeClaimList{Items: []corev1.PersistentVolumeClaim{
			{ObjectMeta: objMeta("data-db-0", 5*time.Hour), Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-0001", StorageClassName: ptr("local")},
				Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}},
		}}},
		{"", "v1", "resourcequotas", "ResourceQuota", true, &corev1.ResourceQuotaList{Items: []corev1.ResourceQuota{
			{ObjectMeta: objMeta("compute", 5*time.Hour), Status: corev1.ResourceQuotaStatus{
				Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("4"), "limits.cpu": resource.MustParse("8"), "pods": resource.MustParse("20")},
				Used: corev1.ResourceList{"requests.cpu": resource.MustParse("1500m"), "limits.cpu": resource.MustParse("3"), "pods": resource.MustParse("6")}}},
		}}},
		{"", "v1", "limitranges", "LimitRange", true, &corev1.LimitRangeList{Items: []corev1.LimitRange{{ObjectMeta: objMeta("defaults", 5*time.Hour)}}}},
		{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, slices},
		{"apps", "v1", "deployments", "Deployment", true, &appsv1.DeploymentList{Items: []appsv1.Deployment{
			{ObjectMeta: objMeta("web", 3*time.Hour), Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Selector: sel, Template: tmpl},
				Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}},
		}}},
		{"apps", "v1", "replicasets", "ReplicaSet", true, &appsv1.ReplicaSetList{Items: []appsv1.ReplicaSet{
			{ObjectMeta: objMeta("web-7d4b9c", 3*time.Hour), Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: sel, Template: tmpl},
				Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2}},
		}}},
		{"apps", "v1", "daemonsets", "DaemonSet", true, &appsv1.DaemonSetList{Items: []appsv1.DaemonSet{
			{ObjectMeta: objMeta("agent", 30*24*time.Hour), Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl},
				Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, UpdatedNumberScheduled: 2, NumberAvailable: 2}},
		}}},
		{"apps", "v1", "statefulsets", "StatefulSet", true, &appsv1.StatefulSetList{Items: []appsv1.StatefulSet{
			{ObjectMeta: objMeta("db", 5*time.Hour), Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(3)), Template: tmpl}, Status: appsv1.StatefulSetStatus{ReadyReplicas: 3}},
		}}},
		{"batch", "v1", "jobs", "Job", true, &batchv1.JobList{Items: []batchv1.Job{
			{ObjectMeta: objMeta("pi", 8*24*time.Hour), Spec: batchv1.JobSpec{Completions: ptr(int32(1)), Template: tmpl, Selector: sel},
				Status: batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(8 * 24 * time.Hour), CompletionTime: agoPtr(8*24*time.Hour - 42*time.Second),
					Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}},
			{ObjectMeta: objMeta("backfill", 10*time.Minute), Spec: batchv1.JobSpec{Parallelism: ptr(int32(4)), Template: tmpl, Selector: sel},
				Status: batchv1.JobStatus{StartTime: agoPtr(10 * time.Minute)}},
		}}},
		{"batch", "v1", "cronjobs", "CronJob", true, &batchv1.CronJobList{Items: []batchv1.CronJob{
			{ObjectMeta: objMeta("nightly", 30*24*time.Hour), Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}},
				Status: batchv1.CronJobStatus{LastScheduleTime: agoPtr(12 * time.Hour)}},
		}}},
		{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, &networkingv1.NetworkPolicyList{Items: []networkingv1.NetworkPolicy{
			{ObjectMeta: objMeta("default-deny", time.Hour)},
			{ObjectMeta: objMeta("web", time.Hour), Spec: networkingv1.NetworkPolicySpec{PodSelector: *sel}},
		}}},
		{"rbac.authorization.k8s.io", "v1", "roles", "Role", true, &rbacv1.RoleList{Items: []rbacv1.Role{{ObjectMeta: objMeta("reader", time.Hour)}}}},
		{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, &rbacv1.RoleBindingList{Items: []rbacv1.RoleBinding{
			{ObjectMeta: objMeta("read", time.Hour), RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "reader"},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice"}, {Kind: "ServiceAccount", Namespace: "default", Name: "ci"}}},
		}}},
		{"coordination.k8s.io", "v1", "leases", "Lease", true, &coordinationv1.LeaseList{Items: []coordinationv1.Lease{
			{ObjectMeta: objMeta("weir-scheduler", 30*24*time.Hour), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("member-1")}},
		}}},
		{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, &policyv1.PodDisruptionBudgetList{Items: []policyv1.PodDisruptionBudget{
			{ObjectMeta: objMeta("web", time.Hour), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(2))}, Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}},
		}}},
	}
}

// render prints a Table as kubectl's table printer does: upper-case
// headers, the priority-0 columns unless wide, columns aligned by a
// tabwriter with kubectl's settings.
func render(table *metav1.Table, wide bool) string {
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 6, 4, 3, ' ', 0)
	var header []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 || wide {
			header = append(header, strings.ToUpper(c.Name))
		}
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, r := range table.Rows {
		var cells []string
		for i, cell := range r.Cells {
			if table.ColumnDefinitions[i].Priority == 0 || wide {
				cells = append(cells, fmt.Sprint(cell))
			}
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	w.Flush()
	return b.String()
}

// goldenText is a resource's golden file: its table, then its wide table,
// each after the kubectl command that prints it.
func goldenText(t *testing.T, f fixture) string {
	t.Helper()
	table, err := Convert(f.list, Options{Now: now})
	if err != nil {
		t.Fatalf("%s: %v", f.resource, err)
	}
	return fmt.Sprintf("$ kubectl get %s\n%s\n$ kubectl get %s -o wide\n%s", f.resource, render(table, false), f.resource, render(table, true))
}

// TestGolden compares the rendered table of each resource with
// testdata/<resource>.txt; -update rewrites the files.
func TestGolden(t *testing.T) {
	for _, f := range fixtures() {
		path := filepath.Join("testdata", f.resource+".txt")
		got := goldenText(t, f)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", path, got, want)
		}
	}
}
