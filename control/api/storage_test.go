package api_test

import (
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStorageDefaults: kube-apiserver's defaults for PersistentVolumes
// (Retain, Filesystem, Pending, hostPath type ""), claims (Filesystem,
// Pending) and StorageClasses (Delete, Immediate); a claim without a
// class gets the default StorageClass, as kube's DefaultStorageClass
// admission gives it.
func TestStorageDefaults(t *testing.T) {
	e := newEnv(t)
	var pv corev1.PersistentVolume
	e.req("POST", "/api/v1/persistentvolumes", `{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv1"},
		"spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/srv/a"}}}`).must(t, http.StatusCreated).into(t, &pv)
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain || pv.Status.Phase != corev1.VolumePending ||
		pv.Spec.VolumeMode == nil || *pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem ||
		pv.Spec.HostPath.Type == nil || *pv.Spec.HostPath.Type != "" {
		t.Errorf("pv defaults: %+v", pv)
	}
	var sc storagev1.StorageClass
	e.req("POST", "/apis/storage.k8s.io/v1/storageclasses", `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"plain"},
		"provisioner":"kubernetes.io/no-provisioner"}`).must(t, http.StatusCreated).into(t, &sc)
	if sc.ReclaimPolicy == nil || *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
		sc.VolumeBindingMode == nil || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Errorf("storage class defaults: %+v", sc)
	}
	claim := `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"NAME"},
		"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}`
	var pvc corev1.PersistentVolumeClaim
	e.req("POST", "/api/v1/namespaces/default/persistentvolumeclaims", strings.Replace(claim, "NAME", "before", 1)).must(t, http.StatusCreated).into(t, &pvc)
	if pvc.Spec.StorageClassName != nil || pvc.Status.Phase != corev1.ClaimPending || *pvc.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
		t.Errorf("claim without a default class: %+v", pvc.Spec)
	}
	e.req("POST", "/apis/storage.k8s.io/v1/storageclasses", `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"local",
		"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"weir.dev/local-path","volumeBindingMode":"WaitForFirstConsumer"}`).must(t, http.StatusCreated)
	pvc = corev1.PersistentVolumeClaim{}
	e.req("POST", "/api/v1/namespaces/default/persistentvolumeclaims", strings.Replace(claim, "NAME", "after", 1)).must(t, http.StatusCreated).into(t, &pvc)
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "local" {
		t.Errorf("claim's class: %v, want the default class local", pvc.Spec.StorageClassName)
	}
	// An explicit "" asks for no class and keeps it.
	pvc = corev1.PersistentVolumeClaim{}
	e.req("POST", "/api/v1/namespaces/default/persistentvolumeclaims", strings.Replace(strings.Replace(claim, "NAME", "none", 1),
		`"spec":{`, `"spec":{"storageClassName":"",`, 1)).must(t, http.StatusCreated).into(t, &pvc)
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "" {
		t.Errorf("claim with storageClassName \"\": %v", pvc.Spec.StorageClassName)
	}
	// The binder's writes: volumeName set once, status through /status.
	e.req("PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/after", `{"spec":{"volumeName":"pv1"}}`,
		"Content-Type: application/merge-patch+json").must(t, http.StatusOK)
	e.req("PATCH", "/api/v1/namespaces/default/persistentvolumeclaims/after/status", `{"status":{"phase":"Bound"}}`,
		"Content-Type: application/merge-patch+json").must(t, http.StatusOK)
	e.req("PATCH", "/api/v1/persistentvolumes/pv1/status", `{"status":{"phase":"Bound"}}`,
		"Content-Type: application/merge-patch+json").must(t, http.StatusOK)
}

// TestStorageValidation: kube's rules, and a Forbidden "not supported by
// weir" naming each field weir does not implement.
func TestStorageValidation(t *testing.T) {
	e := newEnv(t)
	pv := func(spec string) string {
		return `{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"v"},"spec":{` + spec + `}}`
	}
	base := `"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],`
	pvc := func(spec string) string {
		return `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c"},"spec":{` + spec + `}}`
	}
	claimBase := `"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},`
	sc := func(body string) string {
		return `{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"s"},` + body + `}`
	}
	const (
		pvs  = "/api/v1/persistentvolumes"
		pvcs = "/api/v1/namespaces/default/persistentvolumeclaims"
		scs  = "/apis/storage.k8s.io/v1/storageclasses"
	)
	for _, c := range []struct {
		name, path, body, field, msg string
	}{
		{"pv without source", pvs, pv(`"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"]`), "spec", "must specify a volume type"},
		{"pv without capacity", pvs, pv(`"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/a"}`), "spec.capacity", "Required value"},
		{"pv zero capacity", pvs, pv(`"capacity":{"storage":"0"},"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/a"}`), "spec.capacity[storage]", "must be greater than zero"},
		{"pv without modes", pvs, pv(`"capacity":{"storage":"1Gi"},"hostPath":{"path":"/a"}`), "spec.accessModes", "Required value"},
		{"pv nfs", pvs, pv(base + `"nfs":{"server":"x","path":"/a"}`), "spec.nfs", "not supported by weir"},
		{"pv block", pvs, pv(base + `"volumeMode":"Block","hostPath":{"path":"/a"}`), "spec.volumeMode", "not supported by weir"},
		{"pv recycle", pvs, pv(base + `"persistentVolumeReclaimPolicy":"Recycle","hostPath":{"path":"/a"}`), "spec.persistentVolumeReclaimPolicy", "not supported by weir"},
		{"pv mount options", pvs, pv(base + `"mountOptions":["ro"],"hostPath":{"path":"/a"}`), "spec.mountOptions", "not supported by weir"},
		{"pv hostPath backsteps", pvs, pv(base + `"hostPath":{"path":"/a/../etc"}`), "spec.hostPath.path", "must not contain '..'"},
		{"pv hostPath type", pvs, pv(base + `"hostPath":{"path":"/a","type":"Dir"}`), "spec.hostPath.type", "Unsupported value"},
		{"pv local without affinity", pvs, pv(base + `"local":{"path":"/a"}`), "spec.nodeAffinity", "Local volume requires node affinity"},
		{"pv local relative", pvs, pv(base + `"local":{"path":"a"},"nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["n1"]}]}]}}`), "spec.local.path", "must be an absolute path"},
		{"pv bad affinity", pvs, pv(base + `"hostPath":{"path":"/a"},"nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"Near"}]}]}}`), "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator", ""},
		{"pvc without modes", pvcs, pvc(`"resources":{"requests":{"storage":"1Gi"}}`), "spec.accessModes", "at least 1 access mode is required"},
		{"pvc without storage", pvcs, pvc(`"accessModes":["ReadWriteOnce"]`), "spec.resources.requests[storage]", "Required value"},
		{"pvc RWOP", pvcs, pvc(`"accessModes":["ReadWriteOncePod"],"resources":{"requests":{"storage":"1Gi"}}`), "spec.accessModes", "not supported by weir"},
		{"pvc block", pvcs, pvc(claimBase + `"volumeMode":"Block"`), "spec.volumeMode", "not supported by weir"},
		{"pvc data source", pvcs, pvc(claimBase + `"dataSource":{"kind":"PersistentVolumeClaim","name":"x"}`), "spec.dataSource", "not supported by weir"},
		{"pvc data source ref", pvcs, pvc(claimBase + `"dataSourceRef":{"kind":"PersistentVolumeClaim","name":"x"}`), "spec.dataSourceRef", "not supported by weir"},
		{"pvc bad class", pvcs, pvc(claimBase + `"storageClassName":"Not_A_Name"`), "spec.storageClassName", "lowercase"},
		{"sc unknown provisioner", scs, sc(`"provisioner":"ebs.csi.aws.com"`), "provisioner", "not supported by weir"},
		{"sc no provisioner", scs, sc(`"reclaimPolicy":"Delete"`), "provisioner", "Required value"},
		{"sc parameters", scs, sc(`"provisioner":"weir.dev/local-path","parameters":{"type":"ssd"}`), "parameters", "not supported by weir"},
		{"sc recycle", scs, sc(`"provisioner":"weir.dev/local-path","reclaimPolicy":"Recycle"`), "reclaimPolicy", "Unsupported value"},
		{"sc expansion", scs, sc(`"provisioner":"weir.dev/local-path","allowVolumeExpansion":true`), "allowVolumeExpansion", "not supported by weir"},
		{"sc local-path immediate", scs, sc(`"provisioner":"weir.dev/local-path","volumeBindingMode":"Immediate"`), "volumeBindingMode", "set volumeBindingMode: WaitForFirstConsumer"},
		{"sc mount options", scs, sc(`"provisioner":"weir.dev/local-path","mountOptions":["ro"]`), "mountOptions", "not supported by weir"},
		{"sc binding mode", scs, sc(`"provisioner":"weir.dev/local-path","volumeBindingMode":"Later"`), "volumeBindingMode", "Unsupported value"},
	} {
		st := e.req("POST", c.path, c.body).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if !hasCause(st, c.field) || !strings.Contains(st.Message, c.msg) {
			t.Errorf("%s: %s, want a cause at %s saying %q", c.name, st.Message, c.field, c.msg)
		}
	}

	// Updates: a PV's source and a claim's spec (but for binding) and a
	// class's provisioner and parameters are immutable.
	e.req("POST", pvs, pv(base+`"hostPath":{"path":"/a"}`)).must(t, http.StatusCreated)
	st := e.req("PATCH", pvs+"/v", `{"spec":{"hostPath":{"path":"/b"}}}`, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "spec.persistentvolumesource is immutable after creation") {
		t.Errorf("pv source change: %s", st.Message)
	}
	e.req("PATCH", pvs+"/v", `{"spec":{"persistentVolumeReclaimPolicy":"Delete","capacity":{"storage":"2Gi"}}}`, "Content-Type: application/merge-patch+json").must(t, http.StatusOK)
	e.req("POST", pvcs, pvc(strings.TrimSuffix(claimBase, ","))).must(t, http.StatusCreated)
	st = e.req("PATCH", pvcs+"/c", `{"spec":{"accessModes":["ReadWriteMany"]}}`, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "spec is immutable after creation") {
		t.Errorf("claim spec change: %s", st.Message)
	}
	st = e.req("PATCH", pvcs+"/c", `{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}`, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !hasCause(st, "spec.resources.requests.storage") || !strings.Contains(st.Message, "weir does not resize volumes") {
		t.Errorf("claim resize: %s", st.Message)
	}
	e.req("PATCH", pvcs+"/c", `{"spec":{"volumeName":"v"}}`, "Content-Type: application/merge-patch+json").must(t, http.StatusOK)
	st = e.req("PATCH", pvcs+"/c", `{"spec":{"volumeName":"w"}}`, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "spec is immutable after creation") {
		t.Errorf("claim rebind: %s", st.Message)
	}
	e.req("POST", scs, sc(`"provisioner":"kubernetes.io/no-provisioner"`)).must(t, http.StatusCreated)
	st = e.req("PATCH", scs+"/s", `{"provisioner":"weir.dev/local-path"}`, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "updates to provisioner are forbidden.") {
		t.Errorf("class provisioner change: %s", st.Message)
	}
	st = e.req("PATCH", scs+"/s", `{"volumeBindingMode":"WaitForFirstConsumer"}`, "Content-Type: application/merge-patch+json").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !hasCause(st, "volumeBindingMode") {
		t.Errorf("class binding mode change: %s", st.Message)
	}
}

// TestKubectlStorage: kubectl get pv,pvc,sc prints kube's columns from
// the server's tables; api-resources lists the kinds with their short
// names.
func TestKubectlStorage(t *testing.T) {
	k := newKubectlEnv(t)
	out := strings.Join(strings.Fields(k.mustKubectl(t, "", "api-resources")), " ")
	for _, want := range []string{"persistentvolumeclaims pvc v1 true PersistentVolumeClaim",
		"persistentvolumes pv v1 false PersistentVolume", "storageclasses sc storage.k8s.io/v1 false StorageClass"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl api-resources: no %q in\n%s", want, out)
		}
	}
	k.mustKubectl(t, `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: weir.dev/local-path
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: manual-1}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  storageClassName: manual
  claimRef: {namespace: default, name: data}
  hostPath: {path: /srv/manual-1, type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`, "apply", "-f", "-")
	out = k.mustKubectl(t, "", "get", "pv,pvc,sc")
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = strings.Join(f, " ")
		}
	}
	for key, want := range map[string]string{
		"NAME":                                   "", // headers checked below
		"persistentvolume/manual-1":              "persistentvolume/manual-1 2Gi RWO,ROX Retain Pending default/data manual <unset>",
		"persistentvolumeclaim/data":             "persistentvolumeclaim/data Pending local-path <unset>",
		"storageclass.storage.k8s.io/local-path": "storageclass.storage.k8s.io/local-path (default) weir.dev/local-path Delete WaitForFirstConsumer false",
	} {
		if !strings.HasPrefix(lines[key], want) {
			t.Errorf("kubectl get pv,pvc,sc: line %q, want prefix %q\n%s", lines[key], want, out)
		}
	}
	for _, hdr := range []string{
		"NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE",
		"NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
		"NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), hdr) {
			t.Errorf("kubectl get pv,pvc,sc: no header %q in\n%s", hdr, out)
		}
	}
	out, ok := k.kubectl(t, `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: block}
spec:
  accessModes: [ReadWriteOnce]
  volumeMode: Block
  resources: {requests: {storage: 1Gi}}
`, "apply", "-f", "-")
	if ok || !strings.Contains(out, `spec.volumeMode: Forbidden: not supported by weir: block volumes`) {
		t.Errorf("kubectl apply of a Block claim: ok=%v\n%s", ok, out)
	}
}

// TestPodStorageVolumes: pods may use hostPath and persistentVolumeClaim
// volumes, with kube's checks (a path without "..", a known type, a
// claim name); hostPath's type defaults to "".
func TestPodStorageVolumes(t *testing.T) {
	e := newEnv(t)
	pod := func(name, vols string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"containers":[{"name":"c","image":"weir/testimage:1",
			"volumeMounts":[{"name":"v","mountPath":"/v"}]}],"volumes":[` + vols + `]}}`
	}
	var p corev1.Pod
	e.req("POST", "/api/v1/namespaces/default/pods", pod("host", `{"name":"v","hostPath":{"path":"/srv/data"}}`)).must(t, http.StatusCreated).into(t, &p)
	if tp := p.Spec.Volumes[0].HostPath.Type; tp == nil || *tp != "" {
		t.Errorf("hostPath type %v, want \"\"", tp)
	}
	e.req("POST", "/api/v1/namespaces/default/pods", pod("claim", `{"name":"v","persistentVolumeClaim":{"claimName":"data","readOnly":true}}`)).must(t, http.StatusCreated)
	for _, c := range []struct{ name, vols, field string }{
		{"backsteps", `{"name":"v","hostPath":{"path":"/srv/../etc"}}`, "spec.volumes[0].hostPath.path"},
		{"nopath", `{"name":"v","hostPath":{"path":""}}`, "spec.volumes[0].hostPath.path"},
		{"badtype", `{"name":"v","hostPath":{"path":"/srv","type":"Dir"}}`, "spec.volumes[0].hostPath.type"},
		{"noclaim", `{"name":"v","persistentVolumeClaim":{"readOnly":true}}`, "spec.volumes[0].persistentVolumeClaim.claimName"},
	} {
		st := e.req("POST", "/api/v1/namespaces/default/pods", pod(c.name, c.vols)).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if !hasCause(st, c.field) {
			t.Errorf("%s: %s, want a cause at %s", c.name, st.Message, c.field)
		}
	}
}

// TestClaimQuota: a ResourceQuota counts claims (persistentvolumeclaims)
// and their requests.storage, and refuses a claim over either with
// kube's message.
func TestClaimQuota(t *testing.T) {
	e := newEnv(t)
	e.req("POST", "/api/v1/namespaces/default/resourcequotas", `{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},
		"spec":{"hard":{"requests.storage":"1Gi","persistentvolumeclaims":"5"}}}`).must(t, http.StatusCreated)
	claim := func(name, size string) string {
		return `{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"` + name + `"},
			"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"` + size + `"}}}}`
	}
	e.req("POST", "/api/v1/namespaces/default/persistentvolumeclaims", claim("a", "600Mi")).must(t, http.StatusCreated)
	st := e.req("POST", "/api/v1/namespaces/default/persistentvolumeclaims", claim("b", "600Mi")).status(t, http.StatusForbidden, metav1.StatusReasonForbidden)
	want := `persistentvolumeclaims "b" is forbidden: exceeded quota: q, requested: requests.storage=600Mi, used: requests.storage=600Mi, limited: requests.storage=1Gi`
	if st.Message != want {
		t.Errorf("over quota: %q, want %q", st.Message, want)
	}
	e.req("POST", "/api/v1/namespaces/default/persistentvolumeclaims", claim("c", "400Mi")).must(t, http.StatusCreated)
}
