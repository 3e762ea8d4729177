package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPlanFinalizer(t *testing.T) {
	now := metav1.Now()
	obj := func(name string, deleting bool, fin ...string) metav1.Object {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: fin}}
		if deleting {
			p.DeletionTimestamp = &now
		}
		return p
	}
	live, dying := obj("live", false), obj("dying", true)
	cases := []struct {
		name        string
		owner       metav1.Object
		deps        []metav1.Object
		orphan, del int
		remove      string
	}{
		{"not deleting", obj("o", false, "foregroundDeletion"), []metav1.Object{live}, 0, 0, ""},
		{"no gc finalizer", obj("o", true, "example.com/x"), []metav1.Object{live}, 0, 0, ""},
		{"orphan with deps", obj("o", true, "orphan"), []metav1.Object{live, dying}, 2, 0, ""},
		{"orphan done", obj("o", true, "orphan"), nil, 0, 0, "orphan"},
		{"foreground deletes live deps only", obj("o", true, "foregroundDeletion"), []metav1.Object{live, dying}, 0, 1, ""},
		{"foreground waits for dying deps", obj("o", true, "foregroundDeletion"), []metav1.Object{dying}, 0, 0, ""},
		{"foreground done", obj("o", true, "foregroundDeletion", "example.com/x"), nil, 0, 0, "foregroundDeletion"},
	}
	for _, c := range cases {
		s := PlanFinalizer(c.owner, c.deps)
		if len(s.Orphan) != c.orphan || len(s.Delete) != c.del || s.Remove != c.remove {
			t.Errorf("%s: orphan %d delete %d remove %q; want %d %d %q", c.name, len(s.Orphan), len(s.Delete), s.Remove, c.orphan, c.del, c.remove)
		}
		if c.del == 1 && s.Delete[0] != live {
			t.Errorf("%s: deletes %s, want live", c.name, s.Delete[0].GetName())
		}
	}
}
