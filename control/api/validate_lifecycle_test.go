package api

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestValidateLifecycle: kube-apiserver's checks of activeDeadlineSeconds
// (at creation and on update) and of hook handlers.
func TestValidateLifecycle(t *testing.T) {
	secs := func(v int64) *int64 { return &v }
	ctr := func(l *corev1.Lifecycle) []corev1.Container {
		return []corev1.Container{{Name: "c", Image: "i", Lifecycle: l}}
	}
	sleep := func(s int64) *corev1.LifecycleHandler {
		return &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: s}}
	}
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		want string
	}{
		{"deadline 1", corev1.PodSpec{ActiveDeadlineSeconds: secs(1), Containers: ctr(nil)}, ""},
		{"deadline 0", corev1.PodSpec{ActiveDeadlineSeconds: secs(0), Containers: ctr(nil)}, "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"},
		{"sleep within grace", corev1.PodSpec{Containers: ctr(&corev1.Lifecycle{PreStop: sleep(30)})}, ""},
		{"sleep past grace", corev1.PodSpec{TerminationGracePeriodSeconds: secs(5), Containers: ctr(&corev1.Lifecycle{PreStop: sleep(6)})},
			"spec.containers[0].lifecycle.preStop.sleep.seconds: Invalid value: 6: must be non-negative and less than terminationGracePeriodSeconds (5)"},
		{"no handler", corev1.PodSpec{Containers: ctr(&corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{}})},
			"spec.containers[0].lifecycle.postStart: Required value: must specify a handler type"},
		{"empty exec", corev1.PodSpec{Containers: ctr(&corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{}}})},
			"spec.containers[0].lifecycle.postStart.exec.command: Required value"},
	} {
		if got := validateLifecycle(&tc.spec, field.NewPath("spec")).ToAggregate(); (got == nil) != (tc.want == "") || got != nil && !strings.Contains(got.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		name     string
		old, new *int64
		want     string
	}{
		{"set", nil, secs(30), ""},
		{"lowered", secs(30), secs(10), ""},
		{"raised", secs(30), secs(31), "must be less than or equal to previous value"},
		{"removed", secs(30), nil, "must not update from a positive integer to nil value"},
	} {
		got := validateDeadlineUpdate(&corev1.PodSpec{ActiveDeadlineSeconds: tc.new}, &corev1.PodSpec{ActiveDeadlineSeconds: tc.old}, field.NewPath("spec")).ToAggregate()
		if (got == nil) != (tc.want == "") || got != nil && !strings.Contains(got.Error(), tc.want) {
			t.Errorf("update %s: %v, want %q", tc.name, got, tc.want)
		}
	}
}
