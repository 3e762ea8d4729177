package tables

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// columnSpec writes a kind's columns as "Name:type[:format][:priority]".
func columnSpec(cols []metav1.TableColumnDefinition) string {
	var parts []string
	for _, c := range cols {
		s := c.Name + ":" + c.Type
		if c.Format != "" {
			s += ":" + c.Format
		}
		if c.Priority != 0 {
			s += fmt.Sprintf(":%d", c.Priority)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// TestColumns pins each kind's column definitions to kube-apiserver's
// (name, type, format, priority), for the object and for its list, and
// checks that every column has its description.
func TestColumns(t *testing.T) {
	const age = "Age:string"
	for _, tc := range []struct {
		obj, list runtime.Object
		want      string
	}{
		{&corev1.Pod{}, &corev1.PodList{}, "Name:string:name Ready:string Status:string Restarts:string " + age + " IP:string:1 Node:string:1 Nominated Node:string:1 Readiness Gates:string:1"},
		{&corev1.Namespace{}, &corev1.NamespaceList{}, "Name:string:name Status:string " + age},
		{&corev1.Node{}, &corev1.NodeList{}, "Name:string:name Status:string Roles:string " + age + " Version:string Internal-IP:string:1 External-IP:string:1 OS-Image:string:1 Kernel-Version:string:1 Container-Runtime:string:1"},
		{&corev1.Service{}, &corev1.ServiceList{}, "Name:string:name Type:string Cluster-IP:string External-IP:string Port(s):string " + age + " Selector:string:1"},
		{&corev1.Endpoints{}, &corev1.EndpointsList{}, "Name:string:name Endpoints:string " + age},
		{&corev1.ServiceAccount{}, &corev1.ServiceAccountList{}, "Name:string:name Secrets:string " + age},
		{&corev1.ConfigMap{}, &corev1.ConfigMapList{}, "Name:string:name Data:string " + age},
		{&corev1.Secret{}, &corev1.SecretList{}, "Name:string:name Type:string Data:string " + age},
		{&corev1.Event{}, &corev1.EventList{}, "Last Seen:string Type:string Reason:string Object:string Subobject:string:1 Source:string:1 Message:string First Seen:string:1 Count:string:1 Name:string:name:1"},
		{&corev1.PersistentVolume{}, &corev1.PersistentVolumeList{}, "Name:string:name Capacity:string Access Modes:string Reclaim Policy:string Status:string Claim:string StorageClass:string VolumeAttributesClass:string Reason:string " + age + " VolumeMode:string:1"},
		{&storagev1.StorageClass{}, &storagev1.StorageClassList{}, "Name:string:name Provisioner:string ReclaimPolicy:string VolumeBindingMode:string AllowVolumeExpansion:string " + age},
		{&corev1.PersistentVolumeClaim{}, &corev1.PersistentVolumeClaimList{}, "Name:string:name Status:string Volume:string Capacity:string Access Modes:string StorageClass:string VolumeAttributesClass:string " + age + " VolumeMode:string:1"},
		{&corev1.ResourceQuota{}, &corev1.ResourceQuotaList{}, "Name:string:name Request:string Limit:string " + age},
		{&discoveryv1.EndpointSlice{}, &discoveryv1.EndpointSliceList{}, "Name:string:name AddressType:string Ports:string Endpoints:string " + age},
		{&appsv1.Deployment{}, &appsv1.DeploymentList{}, "Name:string:name Ready:string Up-to-date:string Available:string " + age + " Containers:string:1 Images:string:1 Selector:string:1"},
		{&appsv1.ReplicaSet{}, &appsv1.ReplicaSetList{}, "Name:string:name Desired:integer Current:integer Ready:integer " + age + " Containers:string:1 Images:string:1 Selector:string:1"},
		{&appsv1.DaemonSet{}, &appsv1.DaemonSetList{}, "Name:string:name Desired:integer Current:integer Ready:integer Up-to-date:integer Available:integer Node Selector:string " + age + " Containers:string:1 Images:string:1 Selector:string:1"},
		{&appsv1.ControllerRevision{}, &appsv1.ControllerRevisionList{}, "Name:string:name Controller:string Revision:integer " + age},
		{&appsv1.StatefulSet{}, &appsv1.StatefulSetList{}, "Name:string:name Ready:string " + age + " Containers:string:1 Images:string:1"},
		{&batchv1.Job{}, &batchv1.JobList{}, "Name:string:name Status:string Completions:string Duration:string " + age + " Containers:string:1 Images:string:1 Selector:string:1"},
		{&batchv1.CronJob{}, &batchv1.CronJobList{}, "Name:string:name Schedule:string Timezone:string Suspend:boolean Active:integer Last Schedule:string " + age + " Containers:string:1 Images:string:1 Selector:string:1"},
		{&networkingv1.NetworkPolicy{}, &networkingv1.NetworkPolicyList{}, "Name:string:name Pod-Selector:string " + age},
		{&rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{}, "Name:string:name Role:string " + age + " Users:string:1 Groups:string:1 ServiceAccounts:string:1"},
		{&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{}, "Name:string:name Role:string " + age + " Users:string:1 Groups:string:1 ServiceAccounts:string:1"},
		{&coordinationv1.Lease{}, &coordinationv1.LeaseList{}, "Name:string:name Holder:string " + age},
		{&policyv1.PodDisruptionBudget{}, &policyv1.PodDisruptionBudgetList{}, "Name:string:name Min Available:string Max Unavailable:string Allowed Disruptions:integer " + age},
		{&rbacv1.Role{}, &rbacv1.RoleList{}, "Name:string:name Created At:date"},
		{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleList{}, "Name:string:name Created At:date"},
		{&corev1.LimitRange{}, &corev1.LimitRangeList{}, "Name:string:name Created At:date"},
	} {
		for _, obj := range []runtime.Object{tc.obj, tc.list} {
			table, err := Convert(obj, Options{Now: now})
			if err != nil {
				t.Fatalf("%T: %v", obj, err)
			}
			if got := columnSpec(table.ColumnDefinitions); got != tc.want {
				t.Errorf("%T columns\n got %s\nwant %s", obj, got, tc.want)
			}
			for _, c := range table.ColumnDefinitions {
				if c.Description == "" {
					t.Errorf("%T: column %q has no description", obj, c.Name)
				}
			}
		}
	}
	// Spot-check descriptions against the API docs they come from.
	table, _ := Convert(&corev1.Pod{}, Options{})
	if d := table.ColumnDefinitions[0].Description; !strings.HasPrefix(d, "Name must be unique within a namespace.") {
		t.Errorf("Name description %q", d)
	}
	if d := table.ColumnDefinitions[5].Description; d != (corev1.PodStatus{}).SwaggerDoc()["podIP"] {
		t.Errorf("IP description %q", d)
	}
}

func TestListMetaAndEmptyLists(t *testing.T) {
	n := int64(7)
	list := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "123", Continue: "tok", RemainingItemCount: &n}}
	table, err := Convert(list, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "123" || table.Continue != "tok" || table.RemainingItemCount == nil || *table.RemainingItemCount != 7 {
		t.Errorf("list meta %+v", table.ListMeta)
	}
	if table.Rows == nil || len(table.Rows) != 0 {
		t.Errorf("rows of an empty list %#v, want []", table.Rows)
	}
	b, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"rows":[]`) || !strings.HasPrefix(string(b), `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"123","continue":"tok","remainingItemCount":7}`) {
		t.Errorf("json %s", b)
	}

	one := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", ResourceVersion: "9"}}
	table, err = Convert(one, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "9" || len(table.Rows) != 1 {
		t.Errorf("single object: rv %q rows %d", table.ResourceVersion, len(table.Rows))
	}
}

func TestIncludeObject(t *testing.T) {
	mk := func() *corev1.PodList {
		return &corev1.PodList{Items: []corev1.Pod{{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1", ResourceVersion: "5", Labels: map[string]string{"app": "x"}, CreationTimestamp: ago(time.Minute)},
			Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}}}
	}
	for _, tc := range []struct {
		policy metav1.IncludeObjectPolicy
		gv     schema.GroupVersion
		want   string // the row's object as JSON, "" for none
	}{
		{"", schema.GroupVersion{}, `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"p","namespace":"ns","uid":"u1","resourceVersion":"5","creationTimestamp":"2026-03-14T15:08:26Z","labels":{"app":"x"}}}`},
		{metav1.IncludeMetadata, metav1beta1.SchemeGroupVersion, `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1beta1","metadata":{"name":"p","namespace":"ns","uid":"u1","resourceVersion":"5","creationTimestamp":"2026-03-14T15:08:26Z","labels":{"app":"x"}}}`},
		{metav1.IncludeObject, schema.GroupVersion{}, `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"ns","uid":"u1","resourceVersion":"5","creationTimestamp":"2026-03-14T15:08:26Z","labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"busybox","resources":{}}],"nodeName":"n1"},"status":{}}`},
		{metav1.IncludeNone, schema.GroupVersion{}, ""},
	} {
		list := mk()
		table, err := Convert(list, Options{Now: now, IncludeObject: tc.policy, GroupVersion: tc.gv})
		if err != nil {
			t.Fatalf("%q: %v", tc.policy, err)
		}
		if wantGV := tc.gv; !wantGV.Empty() && table.APIVersion != wantGV.String() {
			t.Errorf("%q: table apiVersion %q", tc.policy, table.APIVersion)
		}
		obj := table.Rows[0].Object
		if tc.want == "" {
			if obj.Object != nil || obj.Raw != nil {
				t.Errorf("%q: row object %#v, want none", tc.policy, obj)
			}
			b, _ := json.Marshal(table.Rows[0])
			if !strings.Contains(string(b), `"object":null`) {
				t.Errorf("%q: row json %s", tc.policy, b)
			}
			continue
		}
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%q: row object\n got %s\nwant %s", tc.policy, b, tc.want)
		}
		if !reflect.DeepEqual(list, mk()) {
			t.Errorf("%q: Convert modified its input: %+v", tc.policy, list)
		}
	}
}

func TestNoHeaders(t *testing.T) {
	for _, obj := range []runtime.Object{&corev1.PodList{Items: []corev1.Pod{{}}}, &rbacv1.RoleList{Items: []rbacv1.Role{{}}}} {
		table, err := Convert(obj, Options{NoHeaders: true, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if table.ColumnDefinitions != nil || len(table.Rows) != 1 {
			t.Errorf("%T: columns %v rows %d", obj, table.ColumnDefinitions, len(table.Rows))
		}
	}
}

func TestErrors(t *testing.T) {
	_, err := Convert(&corev1.Pod{}, Options{IncludeObject: "Everything"})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `unrecognized includeObject value: "Everything"`) {
		t.Errorf("bad includeObject: %v", err)
	}
	_, err = Convert(&corev1.Pod{}, Options{GroupVersion: schema.GroupVersion{Group: "meta.k8s.io", Version: "v2"}})
	if code := statusCode(err); code != http.StatusNotAcceptable {
		t.Errorf("Table v2: %v (code %d)", err, code)
	}
	// An object without metadata has no default table.
	_, err = Convert(&metav1.Status{}, Options{})
	if code := statusCode(err); code != http.StatusNotAcceptable {
		t.Errorf("Status: %v (code %d)", err, code)
	}
}

func statusCode(err error) int32 {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Code
	}
	return 0
}

func TestNilObject(t *testing.T) {
	for _, obj := range []runtime.Object{nil, (*corev1.Pod)(nil), (*corev1.PodList)(nil), (*rbacv1.Role)(nil)} {
		if _, err := Convert(obj, Options{}); statusCode(err) != http.StatusInternalServerError {
			t.Errorf("%T: %v", obj, err)
		}
	}
}

// TestTablesAreIndependent: a caller may change the Table it got without
// changing the next one.
func TestTablesAreIndependent(t *testing.T) {
	a, err := Convert(&corev1.Pod{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.ColumnDefinitions[0].Name = "changed"
	b, err := Convert(&corev1.Pod{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.ColumnDefinitions[0].Name != "Name" {
		t.Errorf("second table's first column is %q", b.ColumnDefinitions[0].Name)
	}
}
