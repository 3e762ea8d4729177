package tables

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// now is the instant every test table is printed at.
var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func objMeta(name string, age time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(age)}
}

func ptr[T any](v T) *T { return &v }

// cellsOf converts obj and returns its rows' cells.
func cellsOf(t *testing.T, obj runtime.Object) [][]interface{} {
	t.Helper()
	table, err := Convert(obj, Options{Now: now, IncludeObject: metav1.IncludeNone})
	if err != nil {
		t.Fatalf("Convert(%T): %v", obj, err)
	}
	var out [][]interface{}
	for _, r := range table.Rows {
		if len(r.Cells) != len(table.ColumnDefinitions) {
			t.Errorf("%T: row has %d cells for %d columns", obj, len(r.Cells), len(table.ColumnDefinitions))
		}
		out = append(out, r.Cells)
	}
	return out
}

type cellCase struct {
	name string
	obj  runtime.Object
	want []interface{}
}

func runCells(t *testing.T, cases []cellCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := cellsOf(t, tc.obj)
			if len(got) != 1 || !reflect.DeepEqual(got[0], tc.want) {
				t.Errorf("cells\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func running() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, code, signal int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}}
}

func lastTerminated(d time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: ago(d)}}
}

func pod(name string, initc, c int, st corev1.PodStatus) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: objMeta(name, 90*time.Minute), Status: st}
	for i := 0; i < initc; i++ {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init" + string(rune('a'+i))})
	}
	for i := 0; i < c; i++ {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c" + string(rune('a'+i))})
	}
	return p
}

// wideNone are the wide cells of a pod with no IP, node, nominated node
// nor readiness gates.
var wideNone = []interface{}{"<none>", "<none>", "<none>", "<none>"}

func podCells(cells ...interface{}) []interface{} { return append(cells, wideNone...) }

func TestPodCells(t *testing.T) {
	deleted := ago(10 * time.Second)
	sidecar := func(p *corev1.Pod) *corev1.Pod {
		for i := range p.Spec.InitContainers {
			p.Spec.InitContainers[i].RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
		}
		return p
	}
	initialized := func(s corev1.ConditionStatus) []corev1.PodCondition {
		return []corev1.PodCondition{{Type: corev1.PodInitialized, Status: s}}
	}
	nodeLost := pod("lost", 0, 1, corev1.PodStatus{Phase: corev1.PodRunning, Reason: nodeLostReason})
	nodeLost.DeletionTimestamp = &deleted
	terminating := pod("term", 0, 1, corev1.PodStatus{Phase: corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "ca", State: running()}}})
	terminating.DeletionTimestamp = &deleted
	succeededDeleted := pod("done", 0, 1, corev1.PodStatus{Phase: corev1.PodSucceeded,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "ca", State: terminated("Completed", 0, 0)}}})
	succeededDeleted.DeletionTimestamp = &deleted
	wide := pod("wide", 0, 2, corev1.PodStatus{
		Phase:             corev1.PodRunning,
		PodIPs:            []corev1.PodIP{{IP: "10.0.0.7"}, {IP: "fd00::7"}},
		NominatedNodeName: "n2",
		Conditions: []corev1.PodCondition{
			{Type: "gate1", Status: corev1.ConditionFalse},
			{Type: "gate2", Status: corev1.ConditionTrue},
		},
		ContainerStatuses: []corev1.ContainerStatus{
			{Name: "ca", Ready: true, State: running()},
			{Name: "cb", Ready: true, State: running()},
		},
	})
	wide.Spec.NodeName = "n1"
	wide.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "gate1"}, {ConditionType: "gate2"}, {ConditionType: "gate3"}}
	podIPOnly := pod("ip", 0, 1, corev1.PodStatus{Phase: corev1.PodPending, PodIP: "10.0.0.9"})

	runCells(t, []cellCase{
		{"ready count and restarts", pod("a", 0, 2, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "ca", Ready: true, RestartCount: 3, State: running()},
				{Name: "cb", RestartCount: 3},
			}}), podCells("a", "1/2", "Running", "6", "90m")},
		{"waiting reason overrides phase", pod("b", 0, 2, corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "ca", Ready: true, State: running()},
				{Name: "cb", State: waiting("ImagePullBackOff")},
			}}), podCells("b", "1/2", "ImagePullBackOff", "0", "90m")},
		{"first container's reason wins", pod("c", 0, 2, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "ca", State: waiting("CrashLoopBackOff"), RestartCount: 5, LastTerminationState: lastTerminated(5 * time.Minute)},
				{Name: "cb", State: terminated("OOMKilled", 137, 0)},
			}}), podCells("c", "0/2", "CrashLoopBackOff", "5 (5m ago)", "90m")},
		{"status reason overrides phase", pod("d", 0, 1, corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}),
			podCells("d", "0/1", "Evicted", "0", "90m")},
		{"exit code without reason", pod("e", 0, 1, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "ca", State: terminated("", 3, 0)}}}),
			podCells("e", "0/1", "ExitCode:3", "0", "90m")},
		{"signal without reason", pod("f", 0, 1, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "ca", State: terminated("", 0, 9)}}}),
			podCells("f", "0/1", "Signal:9", "0", "90m")},
		{"completed beside running, not ready", pod("g", 0, 2, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "ca", Ready: true, RestartCount: 3, State: terminated("Completed", 0, 0)},
				{Name: "cb", Ready: true, RestartCount: 3, State: running()},
			}}), podCells("g", "1/2", "NotReady", "6", "90m")},
		{"completed beside running, ready", pod("h", 0, 2, corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "ca", Ready: true, State: terminated("Completed", 0, 0)},
				{Name: "cb", Ready: true, State: running()},
			}}), podCells("h", "1/2", "Running", "0", "90m")},
		{"init container running", pod("i", 1, 1, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "inita", RestartCount: 3, State: running(), LastTerminationState: lastTerminated(10 * time.Second)}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "ca", State: waiting("PodInitializing")}},
		}), podCells("i", "0/1", "Init:0/1", "3 (10s ago)", "90m")},
		{"second init container", pod("j", 2, 1, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "inita", State: terminated("Completed", 0, 0), RestartCount: 2, LastTerminationState: lastTerminated(2 * time.Minute)},
				{Name: "initb", RestartCount: 3, State: running(), LastTerminationState: lastTerminated(10 * time.Second)},
			},
		}), podCells("j", "0/1", "Init:1/2", "5 (10s ago)", "90m")},
		{"init waiting reason", pod("k", 1, 1, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "inita", State: waiting("CrashLoopBackOff")}},
		}), podCells("k", "0/1", "Init:CrashLoopBackOff", "0", "90m")},
		{"init PodInitializing counts as progress", pod("k2", 1, 1, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "inita", State: waiting("PodInitializing")}},
		}), podCells("k2", "0/1", "Init:0/1", "0", "90m")},
		{"init failed with reason", pod("l", 1, 1, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "inita", State: terminated("Error", 1, 0)}},
		}), podCells("l", "0/1", "Init:Error", "0", "90m")},
		{"init failed exit code", pod("m", 1, 1, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "inita", State: terminated("", 2, 0)}},
		}), podCells("m", "0/1", "Init:ExitCode:2", "0", "90m")},
		{"init failed signal", pod("n", 1, 1, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "inita", State: terminated("", 143, 15)}},
		}), podCells("n", "0/1", "Init:Signal:15", "0", "90m")},
		{"init done, app restarted", pod("o", 1, 1, corev1.PodStatus{Phase: corev1.PodRunning,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "inita", RestartCount: 2, State: terminated("Completed", 0, 0), LastTerminationState: lastTerminated(2 * time.Minute)}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "ca", RestartCount: 4, State: running(), LastTerminationState: lastTerminated(20 * time.Second)}},
		}), podCells("o", "0/1", "Running", "4 (20s ago)", "90m")},
		{"sidecar running but not started", sidecar(pod("p", 2, 1, corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: initialized(corev1.ConditionFalse),
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "inita", RestartCount: 3, State: running(), Started: ptr(false), LastTerminationState: lastTerminated(10 * time.Second)},
				{Name: "initb", State: waiting(""), Started: ptr(false)},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "ca", State: waiting("")}},
		})), podCells("p", "0/3", "Init:0/2", "3 (10s ago)", "90m")},
		{"first sidecar started", sidecar(pod("q", 2, 1, corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: initialized(corev1.ConditionFalse),
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "inita", RestartCount: 3, State: running(), Started: ptr(true), LastTerminationState: lastTerminated(10 * time.Second)},
				{Name: "initb", State: running(), Started: ptr(false)},
			},
		})), podCells("q", "0/3", "Init:1/2", "3 (10s ago)", "90m")},
		{"sidecars started, app running", sidecar(pod("r", 2, 1, corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: initialized(corev1.ConditionTrue),
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: "inita", Ready: true, RestartCount: 3, State: running(), Started: ptr(true), LastTerminationState: lastTerminated(10 * time.Second)},
				{Name: "initb", State: running(), Started: ptr(true)},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "ca", Ready: true, RestartCount: 4, State: running(), LastTerminationState: lastTerminated(20 * time.Second)}},
		})), podCells("r", "2/3", "Running", "7 (10s ago)", "90m")},
		{"statuses of unknown containers", sidecar(pod("s", 1, 1, corev1.PodStatus{Phase: corev1.PodRunning,
			InitContainerStatuses: []corev1.ContainerStatus{{Name: "invalid"}, {Name: "inita"}},
			ContainerStatuses:     []corev1.ContainerStatus{{Name: "invalid"}, {Name: "ca"}},
		})), podCells("s", "0/2", "Init:0/1", "0", "90m")},
		{"scheduling gated", pod("t", 0, 2, corev1.PodStatus{Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated}},
		}), podCells("t", "0/2", "SchedulingGated", "0", "90m")},
		{"succeeded", pod("u", 0, 1, corev1.PodStatus{Phase: corev1.PodSucceeded,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "ca", State: terminated("Completed", 0, 0)}}}),
			podCells("u", "0/1", "Completed", "0", "90m")},
		{"terminating", terminating, podCells("term", "0/1", "Terminating", "0", "90m")},
		{"terminal pod being deleted", succeededDeleted, podCells("done", "0/1", "Completed", "0", "90m")},
		{"deleted pod of a lost node", nodeLost, podCells("lost", "0/1", "Unknown", "0", "90m")},
		{"wide columns", wide, []interface{}{"wide", "2/2", "Running", "0", "90m", "10.0.0.7", "n1", "n2", "1/3"}},
		{"podIP without podIPs", podIPOnly, []interface{}{"ip", "0/1", "Pending", "0", "90m", "10.0.0.9", "<none>", "<none>", "<none>"}},
	})
}

func TestPodRowConditions(t *testing.T) {
	for phase, want := range map[corev1.PodPhase]string{corev1.PodSucceeded: "The pod has completed successfully.", corev1.PodFailed: "The pod failed."} {
		table, err := Convert(pod("x", 0, 1, corev1.PodStatus{Phase: phase}), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		c := table.Rows[0].Conditions
		if len(c) != 1 || c[0].Type != metav1.RowCompleted || c[0].Status != metav1.ConditionTrue || c[0].Reason != string(phase) || c[0].Message != want {
			t.Errorf("%s: conditions %+v", phase, c)
		}
	}
	table, err := Convert(pod("x", 0, 1, corev1.PodStatus{Phase: corev1.PodRunning}), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if c := table.Rows[0].Conditions; c != nil {
		t.Errorf("running pod: conditions %+v, want none", c)
	}
}

func TestNodeCells(t *testing.T) {
	node := func(name string, conds []corev1.NodeCondition, unsched bool, lbls map[string]string, addrs []corev1.NodeAddress, info corev1.NodeSystemInfo) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls, CreationTimestamp: ago(49 * time.Hour)}}
		n.Spec.Unschedulable = unsched
		n.Status.Conditions = conds
		n.Status.Addresses = addrs
		n.Status.NodeInfo = info
		return n
	}
	ready := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	info := corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0-28-amd64", ContainerRuntimeVersion: "containerd://1.7.30"}
	addrs := []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n1"}, {Type: corev1.NodeInternalIP, Address: "10.1.0.2"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.9"}}
	runCells(t, []cellCase{
		{"ready", node("n1", ready, false, nil, addrs, info),
			[]interface{}{"n1", "Ready", "<none>", "2d1h", "v1.37.2", "10.1.0.2", "203.0.113.9", "Debian GNU/Linux 12 (bookworm)", "6.1.0-28-amd64", "containerd://1.7.30"}},
		{"cordoned with roles", node("n2", ready, true,
			map[string]string{"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "edge", "node-role.kubernetes.io/": "x"}, nil, corev1.NodeSystemInfo{}),
			[]interface{}{"n2", "Ready,SchedulingDisabled", "control-plane,edge,worker", "2d1h", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{"not ready", node("n3", []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue}, {Type: corev1.NodeReady, Status: corev1.ConditionUnknown}}, false, nil, nil, info),
			[]interface{}{"n3", "NotReady", "<none>", "2d1h", "v1.37.2", "<none>", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0-28-amd64", "containerd://1.7.30"}},
		{"no conditions", node("n4", nil, true, nil, nil, info),
			[]interface{}{"n4", "Unknown,SchedulingDisabled", "<none>", "2d1h", "v1.37.2", "<none>", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0-28-amd64", "containerd://1.7.30"}},
	})
}

func TestServiceCells(t *testing.T) {
	svc := func(name string, spec corev1.ServiceSpec, lb ...corev1.LoadBalancerIngress) *corev1.Service {
		s := &corev1.Service{ObjectMeta: objMeta(name, 3*time.Hour), Spec: spec}
		s.Status.LoadBalancer.Ingress = lb
		return s
	}
	runCells(t, []cellCase{
		{"cluster IP", svc("web", corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Ports: []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}, {Port: 53, Protocol: corev1.ProtocolTCP}}, Selector: map[string]string{"app": "dns"}}),
			[]interface{}{"web", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "3h", "app=dns"}},
		{"node port, clusterIP only, default protocol", svc("np", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.11",
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}}),
			[]interface{}{"np", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP", "3h", "<none>"}},
		{"headless with external IPs", svc("hl", corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"},
			ExternalIPs: []string{"192.0.2.1", "192.0.2.2"}}),
			[]interface{}{"hl", "ClusterIP", "None", "192.0.2.1,192.0.2.2", "<none>", "3h", "<none>"}},
		{"load balancer pending", svc("lb1", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.0.12"},
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 31000, Protocol: corev1.ProtocolTCP}, {Port: 7777, Protocol: corev1.ProtocolSCTP}}}),
			[]interface{}{"lb1", "LoadBalancer", "10.96.0.12", "<pending>", "80:31000/TCP,7777/SCTP", "3h", "<none>"}},
		{"load balancer ingress, unclipped", svc("lb2", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.0.13"}},
			corev1.LoadBalancerIngress{IP: "3.4.5.6"}, corev1.LoadBalancerIngress{IP: "2.3.4.5"}, corev1.LoadBalancerIngress{Hostname: "lb.example.com"}, corev1.LoadBalancerIngress{IP: "2.3.4.5"}),
			[]interface{}{"lb2", "LoadBalancer", "10.96.0.13", "2.3.4.5,3.4.5.6,lb.example.com", "<none>", "3h", "<none>"}},
		{"load balancer and external IPs", svc("lb3", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.0.14"}, ExternalIPs: []string{"192.0.2.9"}},
			corev1.LoadBalancerIngress{IP: "2.3.4.5"}),
			[]interface{}{"lb3", "LoadBalancer", "10.96.0.14", "2.3.4.5,192.0.2.9", "<none>", "3h", "<none>"}},
		{"external name", svc("ext", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}),
			[]interface{}{"ext", "ExternalName", "<none>", "db.example.com", "<none>", "3h", "<none>"}},
		{"no type is ClusterIP", svc("odd", corev1.ServiceSpec{}),
			[]interface{}{"odd", "ClusterIP", "<none>", "<none>", "<none>", "3h", "<none>"}},
		{"unknown type", svc("odd2", corev1.ServiceSpec{Type: "Bogus"}),
			[]interface{}{"odd2", "Bogus", "<none>", "<unknown>", "<none>", "3h", "<none>"}},
	})
}

func TestEndpointsCells(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		var a []corev1.EndpointAddress
		for _, ip := range ips {
			a = append(a, corev1.EndpointAddress{IP: ip})
		}
		return a
	}
	ep := func(name string, subsets ...corev1.EndpointSubset) *corev1.Endpoints {
		return &corev1.Endpoints{ObjectMeta: objMeta(name, 5*time.Minute), Subsets: subsets}
	}
	runCells(t, []cellCase{
		{"none", ep("a"), []interface{}{"a", "<none>", "5m"}},
		{"one port", ep("b", corev1.EndpointSubset{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: []corev1.EndpointPort{{Port: 8080}}}),
			[]interface{}{"b", "10.0.0.1:8080,10.0.0.2:8080", "5m"}},
		{"more than three", ep("c", corev1.EndpointSubset{Addresses: addrs("10.0.0.1", "10.0.0.2"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}}},
			corev1.EndpointSubset{Addresses: addrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}}}),
			[]interface{}{"c", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...", "5m"}},
		{"headless without ports", ep("d", corev1.EndpointSubset{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5")}),
			[]interface{}{"d", "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...", "5m"}},
		{"only not-ready addresses", ep("e", corev1.EndpointSubset{NotReadyAddresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}}),
			[]interface{}{"e", "", "5m"}},
	})
}

func TestEndpointSliceCells(t *testing.T) {
	es := func(name string, ports []discoveryv1.EndpointPort, eps ...[]string) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{ObjectMeta: objMeta(name, 40*time.Second), AddressType: discoveryv1.AddressTypeIPv4, Ports: ports}
		for _, a := range eps {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: a})
		}
		return s
	}
	runCells(t, []cellCase{
		{"empty", es("a", nil), []interface{}{"a", "IPv4", "<unset>", "<unset>", "40s"}},
		{"ports and endpoints", es("b", []discoveryv1.EndpointPort{{Port: ptr(int32(80))}, {Name: ptr("https")}, {}},
			[]string{"10.0.0.1"}, []string{"10.0.0.2", "10.0.0.3"}),
			[]interface{}{"b", "IPv4", "80,https,*", "10.0.0.1,10.0.0.2,10.0.0.3", "40s"}},
		{"truncated", es("c", []discoveryv1.EndpointPort{{Port: ptr(int32(1))}, {Port: ptr(int32(2))}, {Port: ptr(int32(3))}, {Port: ptr(int32(4))}, {Port: ptr(int32(5))}},
			[]string{"10.0.0.1", "10.0.0.2"}, []string{"10.0.0.3"}, []string{"10.0.0.4"}),
			[]interface{}{"c", "IPv4", "1,2,3 + 2 more...", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "40s"}},
	})
}

func TestSmallCoreKinds(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prod", CreationTimestamp: ago(400 * 24 * time.Hour)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	sa := &corev1.ServiceAccount{ObjectMeta: objMeta("default", 7*24*time.Hour), Secrets: []corev1.ObjectReference{{Name: "tok"}}}
	cm := &corev1.ConfigMap{ObjectMeta: objMeta("cfg", 30*time.Second), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}}
	secret := &corev1.Secret{ObjectMeta: objMeta("s", 65*time.Minute), Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"a": nil, "b": nil}, StringData: map[string]string{"b": "x", "c": "y"}}
	tls := &corev1.Secret{ObjectMeta: objMeta("t", 0), Type: corev1.SecretTypeTLS}
	runCells(t, []cellCase{
		{"namespace", ns, []interface{}{"prod", "Terminating", "400d"}},
		{"service account", sa, []interface{}{"default", int64(1), "7d"}},
		{"config map", cm, []interface{}{"cfg", int64(3), "30s"}},
		{"secret with stringData", secret, []interface{}{"s", "Opaque", int64(3), "65m"}},
		{"empty secret", tls, []interface{}{"t", "kubernetes.io/tls", int64(0), "0s"}},
	})
}

func TestEventCells(t *testing.T) {
	ev := &corev1.Event{
		ObjectMeta:     objMeta("web-1.17f", 10*time.Minute),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{web}"},
		Reason:         "BackOff", Message: "  Back-off restarting failed container  \n", Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "kubelet", Host: "n1"},
		FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(30 * time.Second), Count: 7,
	}
	series := &corev1.Event{
		ObjectMeta:     objMeta("dep.1", time.Hour),
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"},
		Reason:         "ScalingReplicaSet", Message: "Scaled up", Type: corev1.EventTypeNormal,
		ReportingController: "deployment-controller",
		EventTime:           metav1.NewMicroTime(now.Add(-time.Hour)),
		Series:              &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(now.Add(-2 * time.Minute))},
	}
	single := &corev1.Event{
		ObjectMeta:     objMeta("node.1", time.Hour),
		InvolvedObject: corev1.ObjectReference{Kind: "Node"},
		Reason:         "Starting", Type: corev1.EventTypeNormal,
		ReportingController: "weir", ReportingInstance: "agent-n1",
		EventTime: metav1.NewMicroTime(now.Add(-3 * time.Minute)),
	}
	runCells(t, []cellCase{
		{"legacy event", ev, []interface{}{"30s", "Warning", "BackOff", "pod/web-1", "spec.containers{web}", "kubelet, n1", "Back-off restarting failed container", "10m", int64(7), "web-1.17f"}},
		{"series", series, []interface{}{"2m", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller", "Scaled up", "60m", int64(4), "dep.1"}},
		{"singleton of the new API", single, []interface{}{"3m", "Normal", "Starting", "node", "", "weir, agent-n1", "", "3m", int64(1), "node.1"}},
	})
}

func TestWorkloadCells(t *testing.T) {
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}, {Name: "log", Image: "busybox"}}}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	dep := &appsv1.Deployment{ObjectMeta: objMeta("web", 26*time.Hour),
		Spec:   appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Selector: sel, Template: tmpl},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}}
	depDefault := &appsv1.Deployment{ObjectMeta: objMeta("one", 26*time.Hour)}
	depBad := &appsv1.Deployment{ObjectMeta: objMeta("bad", time.Hour), Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: objMeta("web-5d8f", 26*time.Hour),
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: sel, Template: tmpl},
		Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}}
	ds := &appsv1.DaemonSet{ObjectMeta: objMeta("agent", 8*24*time.Hour),
		Spec: appsv1.DaemonSetSpec{Selector: sel, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"kubernetes.io/os": "linux"}, Containers: tmpl.Spec.Containers}}},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2}}
	ss := &appsv1.StatefulSet{ObjectMeta: objMeta("db", 5*time.Hour), Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(2)), Template: tmpl},
		Status: appsv1.StatefulSetStatus{ReadyReplicas: 1}}
	yes := true
	crMeta := objMeta("agent-5d8f", 8*24*time.Hour)
	crMeta.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", Controller: &yes}}
	cr := &appsv1.ControllerRevision{ObjectMeta: crMeta, Revision: 2}
	runCells(t, []cellCase{
		{"deployment", dep, []interface{}{"web", "2/3", int64(3), int64(2), "26h", "web,log", "nginx:1.27,busybox", "app=web"}},
		{"deployment defaults", depDefault, []interface{}{"one", "0/1", int64(0), int64(0), "26h", "", "", ""}},
		{"deployment invalid selector", depBad, []interface{}{"bad", "0/1", int64(0), int64(0), "60m", "", "", "<invalid>"}},
		{"replicaset", rs, []interface{}{"web-5d8f", int64(3), int64(3), int64(1), "26h", "web,log", "nginx:1.27,busybox", "app=web"}},
		{"daemonset", ds, []interface{}{"agent", int64(3), int64(3), int64(2), int64(3), int64(2), "kubernetes.io/os=linux", "8d", "web,log", "nginx:1.27,busybox", "app=web"}},
		{"statefulset", ss, []interface{}{"db", "1/2", "5h", "web,log", "nginx:1.27,busybox"}},
		{"controllerrevision", cr, []interface{}{"agent-5d8f", "daemonset.apps/agent", int64(2), "8d"}},
		{"controllerrevision without controller", &appsv1.ControllerRevision{ObjectMeta: objMeta("loose", time.Hour)},
			[]interface{}{"loose", "<none>", int64(0), "60m"}},
	})
}

func TestJobCells(t *testing.T) {
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "pi", Image: "perl"}}}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u1"}}
	cond := func(t batchv1.JobConditionType, s corev1.ConditionStatus) batchv1.JobCondition {
		return batchv1.JobCondition{Type: t, Status: s}
	}
	job := func(name string, spec batchv1.JobSpec, st batchv1.JobStatus) *batchv1.Job {
		spec.Template, spec.Selector = tmpl, sel
		return &batchv1.Job{ObjectMeta: objMeta(name, 2*time.Hour), Spec: spec, Status: st}
	}
	deleting := job("del", batchv1.JobSpec{}, batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobSuspended, corev1.ConditionTrue)}})
	deleting.DeletionTimestamp = agoPtr(time.Second)
	wide := []interface{}{"pi", "perl", "batch.kubernetes.io/controller-uid=u1"}
	row := func(c ...interface{}) []interface{} { return append(c, wide...) }
	runCells(t, []cellCase{
		{"complete", job("done", batchv1.JobSpec{Completions: ptr(int32(1))}, batchv1.JobStatus{Succeeded: 1,
			StartTime: agoPtr(2 * time.Hour), CompletionTime: agoPtr(2*time.Hour - 75*time.Second),
			Conditions: []batchv1.JobCondition{cond(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue), cond(batchv1.JobComplete, corev1.ConditionTrue)}}),
			row("done", "Complete", "1/1", "75s", "120m")},
		{"running", job("run", batchv1.JobSpec{Completions: ptr(int32(5))}, batchv1.JobStatus{Succeeded: 2, StartTime: agoPtr(4 * time.Minute)}),
			row("run", "Running", "2/5", "4m", "120m")},
		{"not started, parallel", job("par", batchv1.JobSpec{Parallelism: ptr(int32(3))}, batchv1.JobStatus{}),
			row("par", "Running", "0/1 of 3", "", "120m")},
		{"failed", job("fail", batchv1.JobSpec{}, batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobFailureTarget, corev1.ConditionTrue), cond(batchv1.JobFailed, corev1.ConditionTrue)}}),
			row("fail", "Failed", "0/1", "", "120m")},
		{"failure target", job("ft", batchv1.JobSpec{}, batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobFailureTarget, corev1.ConditionTrue)}}),
			row("ft", "FailureTarget", "0/1", "", "120m")},
		{"suspended", job("sus", batchv1.JobSpec{}, batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobSuspended, corev1.ConditionTrue)}}),
			row("sus", "Suspended", "0/1", "", "120m")},
		{"suspended false", job("unsus", batchv1.JobSpec{}, batchv1.JobStatus{Conditions: []batchv1.JobCondition{cond(batchv1.JobSuspended, corev1.ConditionFalse)}}),
			row("unsus", "Running", "0/1", "", "120m")},
		{"terminating", deleting, row("del", "Terminating", "0/1", "", "120m")},
	})

	cj := &batchv1.CronJob{ObjectMeta: objMeta("nightly", 30*24*time.Hour), Spec: batchv1.CronJobSpec{
		Schedule: "0 3 * * *", TimeZone: ptr("Europe/Paris"), Suspend: ptr(true),
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl, Selector: sel}}},
		Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "j1"}}, LastScheduleTime: agoPtr(12 * time.Hour)}}
	cjDefault := &batchv1.CronJob{ObjectMeta: objMeta("every", time.Minute), Spec: batchv1.CronJobSpec{Schedule: "* * * * *"}}
	runCells(t, []cellCase{
		{"cronjob", cj, []interface{}{"nightly", "0 3 * * *", "Europe/Paris", "True", int64(1), "12h", "30d", "pi", "perl", "batch.kubernetes.io/controller-uid=u1"}},
		{"cronjob defaults", cjDefault, []interface{}{"every", "* * * * *", "<none>", "False", int64(0), "<none>", "60s", "", "", "<none>"}},
	})
}

func TestOtherKindsCells(t *testing.T) {
	np := &networkingv1.NetworkPolicy{ObjectMeta: objMeta("deny", time.Hour)}
	npSel := &networkingv1.NetworkPolicy{ObjectMeta: objMeta("web", time.Hour), Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, Name: "alice"}, {Kind: rbacv1.GroupKind, Name: "devs"}, {Kind: rbacv1.UserKind, Name: "bob"},
		{Kind: rbacv1.ServiceAccountKind, Namespace: "kube-system", Name: "ctrl"}, {Kind: "Other", Name: "x"},
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: objMeta("rb", time.Hour), RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "reader"}, Subjects: subjects}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb", CreationTimestamp: ago(time.Hour)}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "admin"}}
	lease := &coordinationv1.Lease{ObjectMeta: objMeta("n1", 20*time.Second), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("n1")}}
	leaseFree := &coordinationv1.Lease{ObjectMeta: objMeta("free", 20*time.Second)}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: objMeta("web", time.Hour), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromString("50%"))},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}}
	pdbMax := &policyv1.PodDisruptionBudget{ObjectMeta: objMeta("db", time.Hour), Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr(intstr.FromInt32(1))}}
	pvcBound := &corev1.PersistentVolumeClaim{ObjectMeta: objMeta("data", time.Hour),
		Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-1", StorageClassName: ptr("local"), VolumeMode: ptr(corev1.PersistentVolumeBlock)},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteOnce, corev1.ReadWriteOnce},
			Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("8Gi")}}}
	pvcPending := &corev1.PersistentVolumeClaim{ObjectMeta: objMeta("pend", time.Hour), Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr("local")},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	pvcPending.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "beta"}
	pvcPending.DeletionTimestamp = agoPtr(time.Second)
	pvBound := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pvc-1", CreationTimestamp: ago(time.Hour)},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce}, PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef: &corev1.ObjectReference{Namespace: "default", Name: "data"}, StorageClassName: "local-path", VolumeMode: ptr(corev1.PersistentVolumeFilesystem)},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound}}
	pvReleased := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "old", CreationTimestamp: ago(2 * time.Hour),
		Annotations: map[string]string{corev1.BetaStorageClassAnnotation: "beta"}},
		Spec:   corev1.PersistentVolumeSpec{PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain, StorageClassName: "local-path"},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased, Reason: "Gone"}}
	pvReleased.DeletionTimestamp = agoPtr(time.Second)
	wait, retain := storagev1.VolumeBindingWaitForFirstConsumer, corev1.PersistentVolumeReclaimRetain
	scDefault := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local-path", CreationTimestamp: ago(time.Hour),
		Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "weir.dev/local-path", VolumeBindingMode: &wait, ReclaimPolicy: &retain, AllowVolumeExpansion: ptr(true)}
	scBare := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "manual", CreationTimestamp: ago(time.Hour)}, Provisioner: "kubernetes.io/no-provisioner"}
	rq := &corev1.ResourceQuota{ObjectMeta: objMeta("quota", time.Hour), Status: corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("2"), "limits.memory": resource.MustParse("4Gi"), "limits.cpu": resource.MustParse("4")},
		Used: corev1.ResourceList{"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("500m"), "limits.cpu": resource.MustParse("1")}}}
	runCells(t, []cellCase{
		{"network policy, all pods", np, []interface{}{"deny", "<none>", "60m"}},
		{"network policy", npSel, []interface{}{"web", "app=web", "60m"}},
		{"role binding", rb, []interface{}{"rb", "Role/reader", "60m", "alice, bob", "devs", "kube-system/ctrl"}},
		{"cluster role binding", crb, []interface{}{"crb", "ClusterRole/admin", "60m", "", "", ""}},
		{"lease", lease, []interface{}{"n1", "n1", "20s"}},
		{"lease without holder", leaseFree, []interface{}{"free", "", "20s"}},
		{"pdb min available", pdb, []interface{}{"web", "50%", "N/A", int64(1), "60m"}},
		{"pdb max unavailable", pdbMax, []interface{}{"db", "N/A", "1", int64(0), "60m"}},
		{"pvc bound", pvcBound, []interface{}{"data", "Bound", "pv-1", "8Gi", "RWO,RWOP", "local", "<unset>", "60m", "Block"}},
		{"pvc pending, deleted", pvcPending, []interface{}{"pend", "Terminating", "", "", "", "beta", "<unset>", "60m", "Filesystem"}},
		{"pv bound", pvBound, []interface{}{"pvc-1", "1Gi", "RWO,RWX", "Delete", "Bound", "default/data", "local-path", "<unset>", "", "60m", "Filesystem"}},
		{"pv released, deleted", pvReleased, []interface{}{"old", "0", "", "Retain", "Terminating", "", "beta", "<unset>", "Gone", "120m", "<unset>"}},
		{"storage class default", scDefault, []interface{}{"local-path (default)", "weir.dev/local-path", "Retain", "WaitForFirstConsumer", true, "60m"}},
		{"storage class unset fields", scBare, []interface{}{"manual", "kubernetes.io/no-provisioner", "Delete", "Immediate", false, "60m"}},
		{"resource quota", rq, []interface{}{"quota", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 1/4, limits.memory: 0/4Gi", "60m"}},
	})
}

// TestDefaultTable: kinds without a printer get Name and Created At, as
// kube-apiserver's default table convertor prints them.
func TestDefaultTable(t *testing.T) {
	created := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)))
	list := &rbacv1.RoleList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42"},
		Items: []rbacv1.Role{
			{ObjectMeta: metav1.ObjectMeta{Name: "reader", CreationTimestamp: created}},
			{ObjectMeta: metav1.ObjectMeta{Name: "writer"}},
		},
	}
	table, err := Convert(list, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
		{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	}
	if !reflect.DeepEqual(table.ColumnDefinitions, wantCols) {
		t.Errorf("columns %+v", table.ColumnDefinitions)
	}
	want := [][]interface{}{{"reader", "2026-01-02T02:04:05Z"}, {"writer", "0001-01-01T00:00:00Z"}}
	if got := [][]interface{}{table.Rows[0].Cells, table.Rows[1].Cells}; len(table.Rows) != 2 || !reflect.DeepEqual(got, want) {
		t.Errorf("rows %+v", table.Rows)
	}
	if table.ResourceVersion != "42" {
		t.Errorf("resourceVersion %q", table.ResourceVersion)
	}
	for _, obj := range []runtime.Object{&rbacv1.ClusterRole{}, &corev1.LimitRange{}, &corev1.LimitRangeList{}, &rbacv1.ClusterRoleList{}} {
		table, err := Convert(obj, Options{Now: now})
		if err != nil {
			t.Fatalf("%T: %v", obj, err)
		}
		if len(table.ColumnDefinitions) != 2 || table.ColumnDefinitions[1].Name != "Created At" {
			t.Errorf("%T: columns %+v", obj, table.ColumnDefinitions)
		}
	}
}
