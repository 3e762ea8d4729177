package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// clientset is a client-go clientset for the env's server speaking
// contentType (protobuf is what kubectl and controllers send).
func (e *env) clientset(t *testing.T, contentType string) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(e.restConfig(contentType))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (e *env) restConfig(contentType string) *rest.Config {
	return &rest.Config{Host: e.http.URL, BearerToken: testToken, Timeout: 10 * time.Second,
		ContentConfig: rest.ContentConfig{ContentType: contentType, AcceptContentTypes: contentType + ",application/json"}}
}

// TestClientGoProtobuf drives create, get, list, update, scale and delete
// through client-go with protobuf bodies and answers, and the same with
// JSON: one codec path for both.
func TestClientGoProtobuf(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, ct := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		t.Run(ct, func(t *testing.T) {
			cs := e.clientset(t, ct)
			name := "cm-" + strings.TrimPrefix(strings.ReplaceAll(ct, "/", "-"), "application-")
			name = strings.ReplaceAll(name, ".", "-")
			cm, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "x"}},
				Data:       map[string]string{"k": "v"},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if cm.UID == "" || cm.ResourceVersion == "" || cm.Data["k"] != "v" {
				t.Fatalf("created %+v", cm)
			}
			cm.Data["k"] = "w"
			if cm, err = cs.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{}); err != nil || cm.Data["k"] != "w" {
				t.Fatalf("update: %v %+v", err, cm)
			}
			list, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{LabelSelector: "app=x"})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			found := false
			for _, it := range list.Items {
				found = found || it.Name == name
			}
			if !found || list.ResourceVersion == "" {
				t.Fatalf("list %+v lacks %s", list, name)
			}
			_, err = cs.CoreV1().ConfigMaps("default").Get(ctx, "missing", metav1.GetOptions{})
			if st, ok := err.(interface{ Status() metav1.Status }); !ok || st.Status().Reason != metav1.StatusReasonNotFound {
				t.Fatalf("get missing: %v", err)
			}
			dep := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "d" + name},
				Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:1"}}}}},
			}
			if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create deployment: %v", err)
			}
			sc, err := cs.AppsV1().Deployments("default").GetScale(ctx, dep.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("get scale: %v", err)
			}
			sc.Spec.Replicas = 3
			if sc, err = cs.AppsV1().Deployments("default").UpdateScale(ctx, dep.Name, sc, metav1.UpdateOptions{}); err != nil || sc.Spec.Replicas != 3 {
				t.Fatalf("update scale: %v %+v", err, sc)
			}
			orphan := metav1.DeletePropagationOrphan
			if err := cs.AppsV1().Deployments("default").Delete(ctx, dep.Name, metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
				t.Fatalf("delete deployment with options: %v", err)
			}
			if err := cs.CoreV1().ConfigMaps("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		})
	}
}

// TestMetadataClient lists and gets PartialObjectMetadata(List), as the
// garbage collector and kubectl's metadata informers do.
func TestMetadataClient(t *testing.T) {
	e := newEnv(t)
	mc, err := metadata.NewForConfig(e.restConfig(runtime.ContentTypeProtobuf))
	if err != nil {
		t.Fatal(err)
	}
	res := corev1.SchemeGroupVersion.WithResource("namespaces")
	l, err := mc.Resource(res).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("metadata list: %v", err)
	}
	if len(l.Items) < 2 || l.Items[0].Name == "" || l.Items[0].UID == "" {
		t.Fatalf("metadata list %+v", l)
	}
	one, err := mc.Resource(res).Get(context.Background(), "default", metav1.GetOptions{})
	if err != nil || one.Name != "default" || one.UID == "" {
		t.Fatalf("metadata get: %v %+v", err, one)
	}
}

// TestTableAnswer asks for a Table as kubectl get does, in JSON and
// protobuf.
func TestTableAnswer(t *testing.T) {
	e := newEnv(t)
	accept := "Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
	r := e.req("GET", "/api/v1/namespaces", nil, accept).must(t, http.StatusOK)
	var tbl metav1.Table
	r.into(t, &tbl)
	if tbl.Kind != "Table" || len(tbl.ColumnDefinitions) == 0 || len(tbl.Rows) < 2 || tbl.ResourceVersion == "" {
		t.Fatalf("table %s", r.body)
	}
	if !strings.Contains(string(tbl.Rows[0].Object.Raw), `"kind":"PartialObjectMetadata"`) {
		t.Fatalf("row object is not PartialObjectMetadata: %s", tbl.Rows[0].Object.Raw)
	}
	one := e.req("GET", "/api/v1/namespaces/default?includeObject=None", nil, accept).must(t, http.StatusOK)
	var oneTbl metav1.Table
	one.into(t, &oneTbl)
	if len(oneTbl.Rows) != 1 || oneTbl.Rows[0].Object.Raw != nil || oneTbl.Rows[0].Cells[0] != "default" {
		t.Fatalf("one-row table %s", one.body)
	}
	// Tables have no protobuf form: such a client gets its fallback.
	pb := e.req("GET", "/api/v1/namespaces", nil, "Accept: application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json").must(t, http.StatusOK)
	if !strings.Contains(string(pb.body), `"kind":"NamespaceList"`) {
		t.Fatalf("protobuf table fallback %s", pb.body)
	}
	// A Table of a Status, or of something else than meta.k8s.io, is not
	// on offer: without a fallback the answer is 406.
	e.req("GET", "/api/v1/namespaces", nil, "Accept: application/json;as=Table;v=v1;g=example.com").status(t, http.StatusNotAcceptable, "NotAcceptable")
}

// TestFieldValidation: unknown fields warn by default, fail with Strict
// (kube-apiserver's message) and pass silently with Ignore.
func TestFieldValidation(t *testing.T) {
	e := newEnv(t)
	body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv"},"data":{"a":"b"},"bogus":1}`
	st := e.req("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", body).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if want := `ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"`; st.Message != want {
		t.Fatalf("strict message %q, want %q", st.Message, want)
	}
	r := e.req("POST", "/api/v1/namespaces/default/configmaps", body).must(t, http.StatusCreated)
	if w := r.header.Get("Warning"); !strings.Contains(w, `unknown field \"bogus\"`) {
		t.Fatalf("Warning %q", w)
	}
	r = e.req("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore", strings.Replace(body, `"fv"`, `"fv2"`, 1)).must(t, http.StatusCreated)
	if w := r.header.Get("Warning"); w != "" {
		t.Fatalf("Ignore warned %q", w)
	}
	e.req("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Loud", body).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
}

// TestAggregatedDiscovery: client-go's discovery client (aggregated
// discovery by default) finds every served resource, its subresources and
// the "all" category, in protobuf and JSON.
func TestAggregatedDiscovery(t *testing.T) {
	e := newEnv(t)
	for _, ct := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		dc, err := discovery.NewDiscoveryClientForConfig(e.restConfig(ct))
		if err != nil {
			t.Fatal(err)
		}
		_, lists, err := dc.ServerGroupsAndResources()
		if err != nil {
			t.Fatalf("%s: discovery: %v", ct, err)
		}
		seen := map[string]metav1.APIResource{}
		for _, l := range lists {
			for _, r := range l.APIResources {
				seen[l.GroupVersion+" "+r.Name] = r
			}
		}
		if p := seen["v1 pods"]; p.Kind != "Pod" || !p.Namespaced || len(p.Categories) != 1 || p.Categories[0] != "all" {
			t.Fatalf("%s: pods %+v", ct, p)
		}
		if sc := seen["apps/v1 deployments/scale"]; sc.Kind != "Scale" || sc.Group != "autoscaling" {
			t.Fatalf("%s: deployments/scale %+v", ct, sc)
		}
	}
	accept := "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
	r := e.req("GET", "/apis", nil, accept).must(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" {
		t.Fatalf("aggregated Content-Type %q", ct)
	}
	var doc apidiscoveryv2.APIGroupDiscoveryList
	r.into(t, &doc)
	if doc.Kind != "APIGroupDiscoveryList" || len(doc.Items) < 3 {
		t.Fatalf("aggregated /apis %s", r.body)
	}
	// A client without the aggregated type in Accept gets the legacy list.
	if r := e.req("GET", "/apis", nil).must(t, http.StatusOK); !strings.Contains(string(r.body), `"kind":"APIGroupList"`) {
		t.Fatalf("legacy /apis %s", r.body)
	}
}
