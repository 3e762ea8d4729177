package api

import (
	"fmt"
	"math"
	"net/http"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weirnet/weir/control/satoken"
)

var tokenRequestGVK = authnv1.SchemeGroupVersion.WithKind("TokenRequest")

// tokenRequest answers POST .../serviceaccounts/{name}/token as
// kube-apiserver does: it validates the TokenRequest (expirationSeconds at
// least 10 minutes and at most 2^32 s, capped at the configured maximum;
// audiences default to the API's), binds the token to the Pod, Secret or
// Node named by boundObjectRef (which must exist, with the given UID; a
// Pod must run as this ServiceAccount, and its node is recorded too) and
// answers 201 with the signed token and its expiry in the status.
func (s *Server) tokenRequest(w http.ResponseWriter, r *http.Request, rq *request) (int, any, error) {
	cfg := s.saTokens()
	if cfg == nil {
		return 0, nil, errNoRoute()
	}
	data, err := s.readBody(w, r)
	if err != nil {
		return 0, nil, err
	}
	out, err := s.decodeInto(w, r, data, &authnv1.TokenRequest{}, tokenRequestGVK)
	if err != nil {
		return 0, nil, err
	}
	tr, ok := out.(*authnv1.TokenRequest)
	if !ok || tr.APIVersion != authnv1.SchemeGroupVersion.String() {
		gvk := out.GetObjectKind().GroupVersionKind()
		return 0, nil, errBadRequest("the body must be an %s TokenRequest, not %s %s", authnv1.SchemeGroupVersion, gvk.GroupVersion(), gvk.Kind)
	}
	if tr.Spec.ExpirationSeconds == nil {
		tr.Spec.ExpirationSeconds = new(int64(satoken.DefaultExpiration / time.Second))
	}
	if len(tr.Spec.Audiences) == 0 {
		tr.Spec.Audiences = append([]string(nil), cfg.Audiences...)
	}
	if errs := validateTokenRequest(tr); len(errs) > 0 {
		return 0, nil, apierrors.NewInvalid(tokenRequestGVK.GroupKind(), rq.name, errs)
	}
	if max := int64(cfg.MaxExpiration / time.Second); *tr.Spec.ExpirationSeconds > max {
		tr.Spec.ExpirationSeconds = &max
	}
	ctx := r.Context()
	rd := objectReader{st: s.store, reg: s.reg}
	saObj, err := rd.get(ctx, "serviceaccounts", rq.namespace, rq.name, false)
	if err != nil {
		return 0, nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)
	b := satoken.Binding{Namespace: rq.namespace, ServiceAccount: satoken.Ref{Name: sa.Name, UID: string(sa.UID)},
		Audiences: tr.Spec.Audiences, Expiration: time.Duration(*tr.Spec.ExpirationSeconds) * time.Second}
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if err := s.bindToken(r, rd, rq, ref, &b); err != nil {
			return 0, nil, err
		}
	}
	key, err := cfg.Keys.Get(ctx)
	if err != nil {
		return 0, nil, storeError(err, rq.res, rq.name)
	}
	tok, claims, err := satoken.Mint(key, cfg.Issuer, b, cfg.Now())
	if err != nil {
		return 0, nil, errInternal(err)
	}
	resp := tr.DeepCopy()
	resp.TypeMeta = metav1.TypeMeta{Kind: "TokenRequest", APIVersion: authnv1.SchemeGroupVersion.String()}
	resp.ObjectMeta = metav1.ObjectMeta{Name: sa.Name, Namespace: sa.Namespace}
	resp.Status = authnv1.TokenRequestStatus{Token: tok, ExpirationTimestamp: metav1.Unix(claims.Expiry, 0)}
	s.log.Debug("token issued", "serviceaccount", rq.namespace+"/"+rq.name, "jti", claims.ID, "exp", claims.Expiry)
	return http.StatusCreated, resp, nil
}

// validateTokenRequest is kube's ValidateTokenRequest.
func validateTokenRequest(tr *authnv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	switch exp := *tr.Spec.ExpirationSeconds; {
	case exp < int64(satoken.MinExpiration/time.Second):
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), exp, "may not specify a duration less than 10 minutes"))
	case exp > math.MaxUint32:
		errs = append(errs, field.TooLong(spec.Child("expirationSeconds"), exp, math.MaxUint32))
	}
	return errs
}

// bindToken fills b's bound object from ref, as kube's TokenRequest
// storage does.
func (s *Server) bindToken(r *http.Request, rd objectReader, rq *request, ref *authnv1.BoundObjectReference, b *satoken.Binding) error {
	ctx := r.Context()
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	var uid types.UID
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		o, err := rd.get(ctx, "pods", rq.namespace, ref.Name, true)
		if err != nil {
			return err
		}
		pod := o.(*corev1.Pod)
		if pod.Spec.ServiceAccountName != rq.name {
			return errBadRequest("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", rq.name)
		}
		uid = pod.UID
		b.Pod = &satoken.Ref{Name: pod.Name, UID: string(pod.UID)}
		if pod.Spec.NodeName != "" {
			b.Node = &satoken.Ref{Name: pod.Spec.NodeName}
			if n, err := rd.get(ctx, "nodes", "", pod.Spec.NodeName, false); err == nil {
				b.Node.UID = string(n.GetUID())
			}
		}
	case gvk.Group == "" && gvk.Kind == "Secret":
		o, err := rd.get(ctx, "secrets", rq.namespace, ref.Name, true)
		if err != nil {
			return err
		}
		uid = o.GetUID()
		b.Secret = &satoken.Ref{Name: o.GetName(), UID: string(uid)}
	case gvk.Group == "" && gvk.Kind == "Node":
		o, err := rd.get(ctx, "nodes", "", ref.Name, true)
		if err != nil {
			return err
		}
		uid = o.GetUID()
		b.Node = &satoken.Ref{Name: o.GetName(), UID: string(uid)}
	default:
		return errBadRequest("cannot bind token to object of type %s", gvk.String())
	}
	if ref.UID != "" && uid != ref.UID {
		return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return nil
}
