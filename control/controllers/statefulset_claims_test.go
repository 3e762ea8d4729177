package controllers_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// TestStatefulSetClaims against a real store and API: each pod gets the
// claim <template>-<set>-<ordinal>, made before the pod and labelled
// with the selector; a deleted pod comes back under its name with the
// same claim (not a new one); with whenScaled Delete, scaling down
// deletes the claims of the removed ordinals once their pods are gone;
// with whenDeleted Delete the set owns its claims and the garbage
// collector removes them with it.
func TestStatefulSetClaims(t *testing.T) {
	c := start(t)
	runKubelet(t, c, "default", nil)
	ss := newStatefulSet("db", 2, appsv1.OrderedReadyPodManagement)
	ss.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	ss.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}
	ss.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	created, err := c.AppsV1().StatefulSets("default").Create(bg, ss, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, stsClaims(c, "data-db-0 data-db-1", "db-0=data-db-0 db-1=data-db-1"))
	pvc, err := c.CoreV1().PersistentVolumeClaims("default").Get(bg, "data-db-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pvc.OwnerReferences) != 1 || pvc.OwnerReferences[0].UID != created.UID || pvc.Labels["app"] != "db" {
		t.Errorf("claim owners %+v labels %v", pvc.OwnerReferences, pvc.Labels)
	}
	p, err := c.CoreV1().Pods("default").Get(bg, "db-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().Pods("default").Delete(bg, "db-1", delOpts(p.UID)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		np, err := c.CoreV1().Pods("default").Get(bg, "db-1", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if np.UID == p.UID {
			return "db-1 not replaced yet"
		}
		return stsClaims(c, "data-db-0 data-db-1", "db-0=data-db-0 db-1=data-db-1")()
	})
	again, err := c.CoreV1().PersistentVolumeClaims("default").Get(bg, "data-db-1", metav1.GetOptions{})
	if err != nil || again.UID != pvc.UID {
		t.Fatalf("db-1's claim was replaced: %v %v", again, err)
	}
	// scale down: db-1 and then its claim go
	if _, err := c.AppsV1().StatefulSets("default").Patch(bg, "db", types.MergePatchType, []byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, stsClaims(c, "data-db-0", "db-0=data-db-0"))
	// deleted: the garbage collector takes the pod and the claim
	if err := c.AppsV1().StatefulSets("default").Delete(bg, "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, stsClaims(c, "", ""))
}

// stsClaims checks the claims in default and each pod's claim volume.
func stsClaims(c kubernetes.Interface, claims, pods string) func() string {
	return func() string {
		l, err := c.CoreV1().PersistentVolumeClaims("default").List(bg, metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		var names []string
		for _, p := range l.Items {
			names = append(names, p.Name)
		}
		sort.Strings(names)
		pl, err := c.CoreV1().Pods("default").List(bg, metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		var vols []string
		for _, p := range pl.Items {
			for _, v := range p.Spec.Volumes {
				if v.PersistentVolumeClaim != nil {
					vols = append(vols, p.Name+"="+v.PersistentVolumeClaim.ClaimName)
				}
			}
		}
		sort.Strings(vols)
		if got := fmt.Sprintf("%s / %s", strings.Join(names, " "), strings.Join(vols, " ")); got != claims+" / "+pods {
			return "claims / pod volumes: " + got + ", want " + claims + " / " + pods
		}
		return ""
	}
}
