package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weirnet/weir/control/controllers/kube"
)

// DefaultServiceAccount is the ServiceAccount every namespace gets.
const DefaultServiceAccount = "default"

// MissingServiceAccounts lists the active namespaces without a default
// ServiceAccount.
func MissingServiceAccounts(namespaces []*corev1.Namespace, accounts []*corev1.ServiceAccount) []string {
	have := map[string]bool{}
	for _, a := range accounts {
		if a.Name == DefaultServiceAccount {
			have[a.Namespace] = true
		}
	}
	var out []string
	for _, ns := range namespaces {
		if ns.Status.Phase != corev1.NamespaceTerminating && ns.DeletionTimestamp == nil && !have[ns.Name] {
			out = append(out, ns.Name)
		}
	}
	return out
}

// watchNamespaces feeds the namespace controller (key: the namespace's
// name): a namespace's changes and a change to a ServiceAccount in it.
func (m *Manager) watchNamespaces(h *handlers) {
	h.onAny(m.in.namespaces, func(obj any) { m.loops.namespace.add(keyOf(obj)) })
	h.on(m.in.accounts, nil, nil, func(obj any) {
		if o, ok := kube.ObjectOf(obj); ok {
			m.loops.namespace.add(o.GetNamespace())
		}
	})
}

// syncNamespace creates the default ServiceAccount of one namespace when
// it is missing.
func (m *Manager) syncNamespace(ctx context.Context, name string, _ time.Time) (time.Duration, error) {
	ns, err := m.in.nsLister.Get(name)
	if err != nil {
		return 0, nil
	}
	accounts, err := m.in.saLister.ServiceAccounts(name).List(labels.Everything())
	if err != nil {
		return 0, err
	}
	for _, n := range MissingServiceAccounts([]*corev1.Namespace{ns}, accounts) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceAccount, Namespace: n}}
		_, err := m.c.CoreV1().ServiceAccounts(n).Create(ctx, sa, metav1.CreateOptions{})
		switch {
		case err == nil, apierrors.IsAlreadyExists(err), apierrors.IsNotFound(err), apierrors.IsForbidden(err):
			// Made, exists already, or the namespace is going away.
		default:
			m.warn("create default service account", sa, err)
			return 0, err
		}
	}
	return 0, nil
}
