package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

func (m *Manager) syncNamespaces(ctx context.Context, _ time.Time) {
	for _, ns := range MissingServiceAccounts(m.inf.namespaces.List(), m.inf.accounts.List()) {
		sa := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{Kind: "ServiceAccount", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceAccount, Namespace: ns}}
		out := &corev1.ServiceAccount{}
		err := m.c.Create(ctx, kube.ServiceAccounts, ns, sa, out)
		switch {
		case err == nil:
			m.inf.accounts.Observe(out)
		case apierrors.IsAlreadyExists(err), apierrors.IsNotFound(err), apierrors.IsForbidden(err):
			// Exists already, or the namespace is going away.
		default:
			m.warn("create default service account", sa, err)
		}
	}
}
