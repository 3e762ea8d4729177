package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/weirnet/weir/control/satoken"
	"github.com/weirnet/weir/control/store"
)

// The groups and user extras of ServiceAccount users, as kube-apiserver
// names them.
const (
	GroupServiceAccounts = "system:serviceaccounts"
	ExtraPodName         = "authentication.kubernetes.io/pod-name"
	ExtraPodUID          = "authentication.kubernetes.io/pod-uid"
	ExtraNodeName        = "authentication.kubernetes.io/node-name"
	ExtraNodeUID         = "authentication.kubernetes.io/node-uid"
	ExtraCredentialID    = "authentication.kubernetes.io/credential-id"
)

// deletedPodGrace is how long a bound pod's token outlives the pod's
// deletionTimestamp, as in kube-apiserver.
const deletedPodGrace = 60 * time.Second

// ServiceAccountAuthenticator verifies ServiceAccount bearer tokens for
// Config.Authenticators, as kube-apiserver's ServiceAccount token
// authenticator does: the signature (the cluster key), the issuer, an
// audience among t's audiences and the expiry (satoken.Verifier); then
// that the ServiceAccount still exists with the token's UID and, for a
// bound token, that the bound Pod or Secret (or Node) still exists with
// the token's UID (a pod deleted more than a minute ago no longer counts).
// The user is system:serviceaccount:NS:NAME with the ServiceAccount's UID,
// in system:serviceaccounts and system:serviceaccounts:NS, with the
// pod-name, pod-uid, node-name, node-uid and credential-id extras. A
// bearer token that is not a JWT of this issuer is passed on (not ok, no
// error) to the next authenticator.
func ServiceAccountAuthenticator(st store.Interface, t *ServiceAccountTokens) (authenticator.Request, error) {
	if t == nil || t.Keys == nil {
		return nil, errors.New("api: ServiceAccount tokens need a signing key")
	}
	reg, err := newRegistry()
	if err != nil {
		return nil, err
	}
	cfg := t.withDefaults()
	a := &saAuthenticator{cfg: cfg, rd: objectReader{st: st, reg: reg},
		v: &satoken.Verifier{Keys: cfg.Keys, Issuer: cfg.Issuer, Audiences: cfg.Audiences, Now: cfg.Now}}
	return authenticator.RequestFunc(a.authenticate), nil
}

type saAuthenticator struct {
	cfg *ServiceAccountTokens
	rd  objectReader
	v   *satoken.Verifier
}

func (a *saAuthenticator) authenticate(r *http.Request) (*authenticator.Response, bool, error) {
	tok, ok := bearer(r)
	if !ok {
		return nil, false, nil
	}
	ctx := r.Context()
	c, err := a.v.Verify(ctx, tok)
	if errors.Is(err, satoken.ErrNotOurs) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	k := c.Kubernetes
	ns := k.Namespace
	sa, err := a.rd.get(ctx, "serviceaccounts", ns, k.ServiceAccount.Name, false)
	if err != nil {
		return nil, false, fmt.Errorf("service account %s/%s: %w", ns, k.ServiceAccount.Name, err)
	}
	if string(sa.GetUID()) != k.ServiceAccount.UID {
		return nil, false, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.GetUID(), k.ServiceAccount.UID)
	}
	extra := map[string][]string{}
	if c.ID != "" {
		extra[ExtraCredentialID] = []string{"JTI=" + c.ID}
	}
	now := a.cfg.Now()
	switch {
	case k.Pod != nil:
		o, err := a.rd.get(ctx, "pods", ns, k.Pod.Name, false)
		if err != nil {
			return nil, false, fmt.Errorf("bound pod %s/%s: %w", ns, k.Pod.Name, err)
		}
		pod := o.(*corev1.Pod)
		if string(pod.UID) != k.Pod.UID {
			return nil, false, fmt.Errorf("pod UID (%s) does not match claim (%s)", pod.UID, k.Pod.UID)
		}
		if pod.DeletionTimestamp != nil && pod.DeletionTimestamp.Time.Before(now.Add(-deletedPodGrace)) {
			return nil, false, errors.New("service account token has been invalidated: its pod was deleted")
		}
		extra[ExtraPodName], extra[ExtraPodUID] = []string{pod.Name}, []string{string(pod.UID)}
		if k.Node != nil {
			extra[ExtraNodeName] = []string{k.Node.Name}
			if k.Node.UID != "" {
				extra[ExtraNodeUID] = []string{k.Node.UID}
			}
		}
	case k.Secret != nil:
		o, err := a.rd.get(ctx, "secrets", ns, k.Secret.Name, false)
		if err != nil {
			return nil, false, fmt.Errorf("bound secret %s/%s: %w", ns, k.Secret.Name, err)
		}
		if string(o.GetUID()) != k.Secret.UID {
			return nil, false, fmt.Errorf("secret UID (%s) does not match claim (%s)", o.GetUID(), k.Secret.UID)
		}
		if dt := o.GetDeletionTimestamp(); dt != nil && dt.Time.Before(now.Add(-deletedPodGrace)) {
			return nil, false, errors.New("service account token has been invalidated: its secret was deleted")
		}
	case k.Node != nil:
		o, err := a.rd.get(ctx, "nodes", "", k.Node.Name, false)
		if err != nil {
			return nil, false, fmt.Errorf("bound node %s: %w", k.Node.Name, err)
		}
		if string(o.GetUID()) != k.Node.UID {
			return nil, false, fmt.Errorf("node UID (%s) does not match claim (%s)", o.GetUID(), k.Node.UID)
		}
		extra[ExtraNodeName], extra[ExtraNodeUID] = []string{k.Node.Name}, []string{k.Node.UID}
	}
	u := &user.DefaultInfo{Name: c.Subject, UID: string(sa.GetUID()),
		Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + ns}, Extra: extra}
	return &authenticator.Response{User: u, Audiences: authenticator.Audiences(c.Audience)}, true, nil
}
