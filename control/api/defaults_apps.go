package api

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func int32p(v int32) *int32 { return &v }

func defaultDeployment(d *appsv1.Deployment) {
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = int32p(1)
	}
	if d.Spec.Strategy.Type == "" {
		d.Spec.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if d.Spec.Strategy.RollingUpdate == nil {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := d.Spec.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			v := intstr.FromString("25%")
			ru.MaxUnavailable = &v
		}
		if ru.MaxSurge == nil {
			v := intstr.FromString("25%")
			ru.MaxSurge = &v
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = int32p(10)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = int32p(600)
	}
	defaultPodSpec(&d.Spec.Template.Spec)
}

func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = int32p(1)
	}
	defaultPodSpec(&rs.Spec.Template.Spec)
}

// defaultJob sets kube-apiserver's defaults, including the generated
// selector on the job's uid (manualSelector unset).
func defaultJob(j *batchv1.Job) {
	if j.Spec.Completions == nil && j.Spec.Parallelism == nil {
		j.Spec.Completions, j.Spec.Parallelism = int32p(1), int32p(1)
	}
	if j.Spec.Parallelism == nil {
		j.Spec.Parallelism = int32p(1)
	}
	if j.Spec.BackoffLimit == nil {
		j.Spec.BackoffLimit = int32p(6)
	}
	if j.Spec.CompletionMode == nil {
		m := batchv1.NonIndexedCompletion
		j.Spec.CompletionMode = &m
	}
	if j.Spec.Suspend == nil {
		f := false
		j.Spec.Suspend = &f
	}
	if (j.Spec.ManualSelector == nil || !*j.Spec.ManualSelector) && j.Spec.Selector == nil && j.UID != "" {
		uid := string(j.UID)
		j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: uid}}
		if j.Spec.Template.Labels == nil {
			j.Spec.Template.Labels = map[string]string{}
		}
		j.Spec.Template.Labels[batchv1.ControllerUidLabel] = uid
		j.Spec.Template.Labels[batchv1.JobNameLabel] = j.Name
	}
	defaultPodSpec(&j.Spec.Template.Spec)
}

func defaultEndpointSlice(s *discoveryv1.EndpointSlice) {
	for i := range s.Ports {
		if s.Ports[i].Protocol == nil {
			p := corev1.ProtocolTCP
			s.Ports[i].Protocol = &p
		}
	}
}

// defaultDaemonSet sets kube-apiserver's apps/v1 DaemonSet defaults.
func defaultDaemonSet(ds *appsv1.DaemonSet) {
	us := &ds.Spec.UpdateStrategy
	if us.Type == "" {
		us.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if us.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if us.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromInt32(1)
			us.RollingUpdate.MaxUnavailable = &v
		}
		if us.RollingUpdate.MaxSurge == nil {
			v := intstr.FromInt32(0)
			us.RollingUpdate.MaxSurge = &v
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = int32p(10)
	}
	defaultPodSpec(&ds.Spec.Template.Spec)
}

// defaultCronJob sets kube-apiserver's batch/v1 CronJob defaults; the job
// template's pod spec gets the pod defaults (its JobSpec is defaulted when
// the controller creates a Job from it, as in kube).
func defaultCronJob(cj *batchv1.CronJob) {
	if cj.Spec.ConcurrencyPolicy == "" {
		cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if cj.Spec.Suspend == nil {
		f := false
		cj.Spec.Suspend = &f
	}
	if cj.Spec.SuccessfulJobsHistoryLimit == nil {
		cj.Spec.SuccessfulJobsHistoryLimit = int32p(3)
	}
	if cj.Spec.FailedJobsHistoryLimit == nil {
		cj.Spec.FailedJobsHistoryLimit = int32p(1)
	}
	defaultPodSpec(&cj.Spec.JobTemplate.Spec.Template.Spec)
}

// defaultStatefulSet sets kube-apiserver's apps/v1 StatefulSet defaults:
// OrderedReady, RollingUpdate with partition 0, one replica, ten
// revisions, Retain for both PVC retention cases, and each claim
// template's volumeMode Filesystem and phase Pending.
func defaultStatefulSet(ss *appsv1.StatefulSet) {
	s := &ss.Spec
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if s.UpdateStrategy.RollingUpdate.Partition == nil {
			s.UpdateStrategy.RollingUpdate.Partition = int32p(0)
		}
	}
	if s.Replicas == nil {
		s.Replicas = int32p(1)
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = int32p(10)
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	rp := s.PersistentVolumeClaimRetentionPolicy
	if rp.WhenDeleted == "" {
		rp.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if rp.WhenScaled == "" {
		rp.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	for i := range s.VolumeClaimTemplates {
		c := &s.VolumeClaimTemplates[i]
		if c.Spec.VolumeMode == nil {
			m := corev1.PersistentVolumeFilesystem
			c.Spec.VolumeMode = &m
		}
		if c.Status.Phase == "" {
			c.Status.Phase = corev1.ClaimPending
		}
	}
	defaultPodSpec(&s.Template.Spec)
}
