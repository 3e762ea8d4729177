package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1apply "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestClientGoApplyAndPatch drives server-side apply and the patch types
// through client-go's typed clientset, over TLS.
func TestClientGoApplyAndPatch(t *testing.T) {
	e := newTLSEnv(t)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: e.http.URL, BearerToken: testToken,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}, UserAgent: "weir-test/1.0",
		ContentConfig: rest.ContentConfig{ContentType: "application/vnd.kubernetes.protobuf"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	deps := cs.AppsV1().Deployments("default")
	cfg := func(image string) *appsv1apply.DeploymentApplyConfiguration {
		return appsv1apply.Deployment("cg", "default").WithSpec(appsv1apply.DeploymentSpec().
			WithReplicas(2).
			WithSelector(metav1apply.LabelSelector().WithMatchLabels(map[string]string{"app": "cg"})).
			WithTemplate(corev1apply.PodTemplateSpec().WithLabels(map[string]string{"app": "cg"}).
				WithSpec(corev1apply.PodSpec().WithContainers(corev1apply.Container().WithName("c").WithImage(image).
					WithPorts(corev1apply.ContainerPort().WithContainerPort(80))))))
	}
	d, err := deps.Apply(ctx, cfg("img:1"), metav1.ApplyOptions{FieldManager: "deployer"})
	if err != nil {
		t.Fatalf("apply create: %v", err)
	}
	if d.Spec.Template.Spec.Containers[0].Image != "img:1" || d.UID == "" {
		t.Fatalf("applied %+v", d.Spec.Template.Spec.Containers)
	}
	// a strategic merge patch by another manager changes the image
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"img:2"}]}}}}`
	d, err = deps.Patch(ctx, "cg", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "other"})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "img:2" || len(d.Spec.Template.Spec.Containers[0].Ports) != 1 {
		t.Fatalf("strategic patch: %v %+v", err, d)
	}
	// the deployer's next apply conflicts on the image, as an apierrors Conflict
	_, err = deps.Apply(ctx, cfg("img:3"), metav1.ApplyOptions{FieldManager: "deployer"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `conflict with "other"`) {
		t.Fatalf("conflicting apply: %v", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeFieldManagerConflict {
		t.Fatalf("conflict details %+v", st.Details)
	}
	d, err = deps.Apply(ctx, cfg("img:3"), metav1.ApplyOptions{FieldManager: "deployer", Force: true})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "img:3" {
		t.Fatalf("forced apply: %v", err)
	}
	// JSON patch with a failing test: Invalid
	_, err = deps.Patch(ctx, "cg", types.JSONPatchType, []byte(`[{"op":"test","path":"/spec/replicas","value":9}]`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("failing JSON patch test: %v", err)
	}
	// the client's user agent names its Update entries
	d, err = deps.Patch(ctx, "cg", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	managedEntry(t, d.ManagedFields, "weir-test", "")
	managedEntry(t, d.ManagedFields, "deployer", "")
	// the scale subresource through the client
	sc, err := deps.GetScale(ctx, "cg", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = 5
	if _, err := deps.UpdateScale(ctx, "cg", sc, metav1.UpdateOptions{FieldManager: "scaler"}); err != nil {
		t.Fatal(err)
	}
	var got appsv1.Deployment
	e.req("GET", deployPath+"/cg", nil).must(t, 200).into(t, &got)
	if *got.Spec.Replicas != 5 {
		t.Fatalf("replicas %d", *got.Spec.Replicas)
	}
	managedEntry(t, got.ManagedFields, "scaler", "scale")
}
