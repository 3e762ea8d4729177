package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var (
	revA = &StatefulRevision{Name: "web-a"}
	revB = &StatefulRevision{Name: "web-b"}
)

func statefulSet(replicas int32, policy appsv1.PodManagementPolicyType, partition int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "ss1", Generation: 2},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas, PodManagementPolicy: policy, ServiceName: "nginx",
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "v1"}}}},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &partition}}}}
}

// stsPod is member ord of web at revision rev in state: "ready",
// "pending" (created, not running), "running" (not ready), "failed",
// "terminating".
func stsPod(ord int, rev, state string) *corev1.Pod {
	name := fmt.Sprintf("web-%d", ord)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name),
		Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: rev}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	switch state {
	case "ready", "terminating":
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute))}}
		if state == "terminating" {
			p.DeletionTimestamp = &metav1.Time{Time: t0}
		}
	case "pending":
		p.Status.Phase = corev1.PodPending
	case "failed":
		p.Status.Phase = corev1.PodFailed
	}
	return p
}

func stsPlan(p StatefulSetPlan) string {
	var create, del []string
	for _, c := range p.Create {
		create = append(create, fmt.Sprintf("%d@%s", c.Ordinal, c.Revision.Name))
	}
	for _, d := range p.Delete {
		del = append(del, d.Name)
	}
	s := p.Status
	out := fmt.Sprintf("create=[%s] delete=[%s] replicas=%d ready=%d current=%d updated=%d available=%d revs=%s/%s gen=%d",
		strings.Join(create, " "), strings.Join(del, " "), s.Replicas, s.ReadyReplicas, s.CurrentReplicas, s.UpdatedReplicas,
		s.AvailableReplicas, s.CurrentRevision, s.UpdateRevision, s.ObservedGeneration)
	if len(p.DeleteClaims) > 0 {
		out += " claims=" + strings.Join(p.DeleteClaims, ",")
	}
	return out
}

// TestPlanStatefulSet: OrderedReady creates ordinal n only once n-1 is
// Running and Ready and scales down highest first one at a time;
// Parallel does all at once; failed pods are deleted to be recreated
// under their name; a RollingUpdate replaces pods at or above the
// partition, highest first, one at a time, each once the one above it is
// healthy again; OnDelete replaces nothing.
func TestPlanStatefulSet(t *testing.T) {
	ordered, parallel := appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement
	for _, c := range []struct {
		name      string
		ss        *appsv1.StatefulSet
		pods      []*corev1.Pod
		cur       *StatefulRevision
		want      string
		onDelete  bool
		minReady  int32
		startOrd  int32
		deleting  bool
		whenScale bool
		claims    []string
	}{
		{name: "ordered first", ss: statefulSet(3, ordered, 0),
			want: "create=[0@web-b] delete=[] replicas=0 ready=0 current=0 updated=0 available=0 revs=web-b/web-b gen=2"},
		{name: "ordered waits for 0 to run", ss: statefulSet(3, ordered, 0), pods: []*corev1.Pod{stsPod(0, "web-b", "pending")},
			want: "create=[] delete=[] replicas=1 ready=0 current=1 updated=1 available=0 revs=web-b/web-b gen=2"},
		{name: "ordered waits for 0 to be ready", ss: statefulSet(3, ordered, 0), pods: []*corev1.Pod{stsPod(0, "web-b", "running")},
			want: "create=[] delete=[] replicas=1 ready=0 current=1 updated=1 available=0 revs=web-b/web-b gen=2"},
		{name: "ordered next", ss: statefulSet(3, ordered, 0), pods: []*corev1.Pod{stsPod(0, "web-b", "ready")},
			want: "create=[1@web-b] delete=[] replicas=1 ready=1 current=1 updated=1 available=1 revs=web-b/web-b gen=2"},
		{name: "ordered fills a gap first", ss: statefulSet(3, ordered, 0), pods: []*corev1.Pod{stsPod(0, "web-b", "ready"), stsPod(2, "web-b", "ready")},
			want: "create=[1@web-b] delete=[] replicas=2 ready=2 current=2 updated=2 available=2 revs=web-b/web-b gen=2"},
		{name: "ordered waits for minReadySeconds", ss: statefulSet(3, ordered, 0), minReady: 120, pods: []*corev1.Pod{stsPod(0, "web-b", "ready")},
			want: "create=[] delete=[] replicas=1 ready=1 current=1 updated=1 available=0 revs=web-b/web-b gen=2"},
		{name: "parallel creates all", ss: statefulSet(3, parallel, 0), pods: []*corev1.Pod{stsPod(1, "web-b", "pending")},
			want: "create=[0@web-b 2@web-b] delete=[] replicas=1 ready=0 current=1 updated=1 available=0 revs=web-b/web-b gen=2"},
		{name: "ordinals start", ss: statefulSet(2, parallel, 0), startOrd: 5,
			want: "create=[5@web-b 6@web-b] delete=[] replicas=0 ready=0 current=0 updated=0 available=0 revs=web-b/web-b gen=2"},
		{name: "failed pod deleted to be recreated", ss: statefulSet(2, ordered, 0), pods: []*corev1.Pod{stsPod(0, "web-b", "failed"), stsPod(1, "web-b", "ready")},
			want: "create=[] delete=[web-0] replicas=2 ready=1 current=2 updated=2 available=1 revs=web-b/web-b gen=2"},
		{name: "terminating pod waited for", ss: statefulSet(2, ordered, 0), pods: []*corev1.Pod{stsPod(0, "web-b", "terminating"), stsPod(1, "web-b", "ready")},
			want: "create=[] delete=[] replicas=2 ready=2 current=1 updated=1 available=2 revs=web-b/web-b gen=2"},
		{name: "ordered scale down highest first", ss: statefulSet(1, ordered, 0),
			pods: []*corev1.Pod{stsPod(0, "web-b", "ready"), stsPod(1, "web-b", "ready"), stsPod(2, "web-b", "ready")},
			want: "create=[] delete=[web-2] replicas=3 ready=3 current=3 updated=3 available=3 revs=web-b/web-b gen=2"},
		{name: "ordered scale down waits for the terminating one", ss: statefulSet(1, ordered, 0),
			pods: []*corev1.Pod{stsPod(0, "web-b", "ready"), stsPod(1, "web-b", "ready"), stsPod(2, "web-b", "terminating")},
			want: "create=[] delete=[] replicas=3 ready=3 current=2 updated=2 available=3 revs=web-b/web-b gen=2"},
		{name: "parallel scale down all at once", ss: statefulSet(1, parallel, 0),
			pods: []*corev1.Pod{stsPod(0, "web-b", "ready"), stsPod(1, "web-b", "ready"), stsPod(2, "web-b", "ready")},
			want: "create=[] delete=[web-2 web-1] replicas=3 ready=3 current=3 updated=3 available=3 revs=web-b/web-b gen=2"},
		{name: "roll starts at the highest", ss: statefulSet(3, ordered, 0), cur: revA,
			pods: []*corev1.Pod{stsPod(0, "web-a", "ready"), stsPod(1, "web-a", "ready"), stsPod(2, "web-a", "ready")},
			want: "create=[] delete=[web-2] replicas=3 ready=3 current=3 updated=0 available=3 revs=web-a/web-b gen=2"},
		{name: "roll recreates from the update revision", ss: statefulSet(3, ordered, 0), cur: revA,
			pods: []*corev1.Pod{stsPod(0, "web-a", "ready"), stsPod(1, "web-a", "ready")},
			want: "create=[2@web-b] delete=[] replicas=2 ready=2 current=2 updated=0 available=2 revs=web-a/web-b gen=2"},
		{name: "roll waits for the new pod", ss: statefulSet(3, ordered, 0), cur: revA,
			pods: []*corev1.Pod{stsPod(0, "web-a", "ready"), stsPod(1, "web-a", "ready"), stsPod(2, "web-b", "running")},
			want: "create=[] delete=[] replicas=3 ready=2 current=2 updated=1 available=2 revs=web-a/web-b gen=2"},
		{name: "roll continues downwards", ss: statefulSet(3, ordered, 0), cur: revA,
			pods: []*corev1.Pod{stsPod(0, "web-a", "ready"), stsPod(1, "web-a", "ready"), stsPod(2, "web-b", "ready")},
			want: "create=[] delete=[web-1] replicas=3 ready=3 current=2 updated=1 available=3 revs=web-a/web-b gen=2"},
		{name: "parallel rolls one at a time too", ss: statefulSet(3, parallel, 0), cur: revA,
			pods: []*corev1.Pod{stsPod(0, "web-a", "ready"), stsPod(1, "web-a", "ready"), stsPod(2, "web-b", "running")},
			want: "create=[] delete=[] replicas=3 ready=2 current=2 updated=1 available=2 revs=web-a/web-b gen=2"},
		{name: "roll complete: current becomes update", ss: statefulSet(3, ordered, 0), cur: revA,
			pods: []*corev1.Pod{stsPod(0, "web-b", "ready"), stsPod(1, "web-b", "ready"), stsPod(2, "web-b", "ready")},
			want: "create=[] delete=[] replicas=3 ready=3 current=3 updated=3 available=3 revs=web-b/web-b gen=2"},
		{name: "partition keeps the lower ordinals", ss: statefulSet(3, ordered, 2), cur: revA,
			pods: []*corev1.Pod{stsPod(0, "web-a", "ready"), stsPod(1, "web-a", "ready"), stsPod(2, "web-b", "ready")},
			want: "create=[] delete=[] replicas=3 ready=3 current=2 updated=1 available=3 revs=web-a/web-b gen=2"},
		{name: "partition: a lost low pod comes back at the current revision", ss: statefulSet(3, ordered, 2), cur: revA,
			pods: []*corev1.Pod{stsPod(1, "web-a", "ready"), stsPod(2, "web-b", "ready")},
			want: "create=[0@web-a] delete=[] replicas=2 ready=2 current=1 updated=1 available=2 revs=web-a/web-b gen=2"},
		{name: "OnDelete replaces nothing", ss: statefulSet(2, ordered, 0), cur: revA, onDelete: true,
			pods: []*corev1.Pod{stsPod(0, "web-a", "ready"), stsPod(1, "web-a", "ready")},
			want: "create=[] delete=[] replicas=2 ready=2 current=2 updated=0 available=2 revs=web-a/web-b gen=2"},
		{name: "OnDelete recreates from the update revision", ss: statefulSet(2, ordered, 0), cur: revA, onDelete: true,
			pods: []*corev1.Pod{stsPod(1, "web-a", "ready")},
			want: "create=[0@web-b] delete=[] replicas=1 ready=1 current=1 updated=0 available=1 revs=web-a/web-b gen=2"},
		{name: "being deleted: status only", ss: statefulSet(3, ordered, 0), deleting: true, pods: []*corev1.Pod{stsPod(0, "web-b", "ready")},
			want: "create=[] delete=[] replicas=1 ready=1 current=1 updated=1 available=1 revs=web-b/web-b gen=2"},
		{name: "whenScaled Delete: the claims of gone ordinals", ss: statefulSet(1, ordered, 0), whenScale: true,
			pods:   []*corev1.Pod{stsPod(0, "web-b", "ready"), stsPod(1, "web-b", "terminating")},
			claims: []string{"data-web-0", "data-web-1", "data-web-2", "data-web-x", "other-web-3"},
			want:   "create=[] delete=[] replicas=2 ready=2 current=1 updated=1 available=2 revs=web-b/web-b gen=2 claims=data-web-2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ss := c.ss
			ss.Spec.MinReadySeconds = c.minReady
			if c.startOrd > 0 {
				ss.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: c.startOrd}
			}
			if c.onDelete {
				ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
			}
			if c.deleting {
				ss.DeletionTimestamp = &metav1.Time{Time: t0}
			}
			if c.whenScale {
				ss.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
				ss.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
			}
			if got := stsPlan(PlanStatefulSet(ss, c.pods, c.cur, revB, c.claims, t0)); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// TestStatefulPodFor: the pod's name, identity labels, hostname and
// subdomain, and a claim volume per template in place of the template's
// volume of that name; its claims carry the selector labels and, with
// whenDeleted Delete, a (non-controlling) reference to the set.
func TestStatefulPodFor(t *testing.T) {
	ss := statefulSet(3, appsv1.OrderedReadyPodManagement, 0)
	ss.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "cfg", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	ss.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{
		{ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: map[string]string{"tier": "db"}},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "logs"}}}
	ss.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	p := StatefulPodFor(ss, &StatefulRevision{Name: "web-abc", Template: &ss.Spec.Template}, 2)
	if p.Name != "web-2" || p.GenerateName != "" || p.Spec.Hostname != "web-2" || p.Spec.Subdomain != "nginx" {
		t.Errorf("identity: name %q generateName %q hostname %q subdomain %q", p.Name, p.GenerateName, p.Spec.Hostname, p.Spec.Subdomain)
	}
	want := map[string]string{"app": "web", StatefulSetPodNameLabel: "web-2", PodIndexLabel: "2", appsv1.ControllerRevisionHashLabelKey: "web-abc"}
	if fmt.Sprint(p.Labels) != fmt.Sprint(want) {
		t.Errorf("labels %v, want %v", p.Labels, want)
	}
	var vols []string
	for _, v := range p.Spec.Volumes {
		src := "emptyDir"
		if v.PersistentVolumeClaim != nil {
			src = "pvc:" + v.PersistentVolumeClaim.ClaimName
		}
		vols = append(vols, v.Name+"="+src)
	}
	if got := strings.Join(vols, " "); got != "data=pvc:data-web-2 cfg=emptyDir logs=pvc:logs-web-2" {
		t.Errorf("volumes %s", got)
	}
	if r := controllerOf(p); r == nil || r.Kind != "StatefulSet" || r.UID != "ss1" {
		t.Errorf("owner %+v", p.OwnerReferences)
	}
	if ss.Spec.Template.Spec.Volumes[0].EmptyDir == nil {
		t.Error("the set's template was changed")
	}
	claims := StatefulClaimsFor(ss, 2)
	if len(claims) != 2 || claims[0].Name != "data-web-2" || claims[1].Name != "logs-web-2" {
		t.Fatalf("claims %v", claims)
	}
	c := claims[0]
	if c.Labels["tier"] != "db" || c.Labels["app"] != "web" || c.Spec.Resources.Requests.Storage().String() != "1Gi" {
		t.Errorf("claim %+v", c)
	}
	if len(c.OwnerReferences) != 1 || c.OwnerReferences[0].UID != "ss1" || c.OwnerReferences[0].Controller != nil {
		t.Errorf("claim owners %+v", c.OwnerReferences)
	}
}

func TestStatefulPodOrdinal(t *testing.T) {
	for name, want := range map[string]int{"web-0": 0, "web-12": 12, "web-01": -1, "web-": -1, "web-x": -1, "webx-1": -1, "web-1-2": -1, "web": -1} {
		if got := StatefulPodOrdinal("web", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}); got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
}

// TestPlanStatefulSetHistory: a revision per template, labelled and
// holding the template patch that RevisionTemplate reads back; an old
// template that comes back is renumbered; revisions beyond the limit
// that neither the status nor a pod uses are pruned, oldest first.
func TestPlanStatefulSetHistory(t *testing.T) {
	ss := statefulSet(1, appsv1.OrderedReadyPodManagement, 0)
	name := StatefulSetRevisionName(ss)
	h, err := PlanStatefulSetHistory(ss, nil, nil)
	if err != nil || h.Create == nil || h.Create.Name != name || h.Create.Revision != 1 ||
		h.Create.Labels[appsv1.ControllerRevisionHashLabelKey] != name || h.Create.Labels["app"] != "web" {
		t.Fatalf("create %+v %v", h.Create, err)
	}
	tpl, err := RevisionTemplate(h.Create)
	if err != nil || tpl.Spec.Containers[0].Image != "v1" || TemplateHash(tpl) != TemplateHash(&ss.Spec.Template) {
		t.Fatalf("template %+v %v", tpl, err)
	}
	if !strings.Contains(string(h.Create.Data.Raw), `"$patch":"replace"`) {
		t.Errorf("data %s", h.Create.Data.Raw)
	}
	rev := func(n string, r int64) *appsv1.ControllerRevision {
		cr := h.Create.DeepCopy()
		cr.Name, cr.Revision = n, r
		return cr
	}
	h2, _ := PlanStatefulSetHistory(ss, []*appsv1.ControllerRevision{rev(name, 1), rev("web-old", 2)}, nil)
	if h2.Create != nil || h2.Renumber == nil || h2.Renumber.Revision != 3 {
		t.Errorf("rollback: %+v", h2)
	}
	limit := int32(1)
	ss.Spec.RevisionHistoryLimit = &limit
	ss.Status.CurrentRevision = "web-r2"
	revs := []*appsv1.ControllerRevision{rev("web-r1", 1), rev("web-r2", 2), rev("web-r3", 3), rev("web-r4", 4), rev("web-r5", 5), rev(name, 6)}
	h3, _ := PlanStatefulSetHistory(ss, revs, []*corev1.Pod{stsPod(0, "web-r3", "ready")})
	var del []string
	for _, r := range h3.Delete {
		del = append(del, r.Name)
	}
	if got := strings.Join(del, " "); got != "web-r1 web-r4" {
		t.Errorf("pruned %s, want web-r1 web-r4", got)
	}
}
