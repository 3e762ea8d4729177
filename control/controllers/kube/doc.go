// Package kube is the typed REST client and the list+watch caches that the
// scheduler and the controllers use to talk to the weir API, the way
// kube-controller-manager talks to kube-apiserver.
//
// It owns:
//   - Client: typed calls (Get, List, Create, Update, UpdateStatus, Delete,
//     Bind, Watch) on k8s.io/api objects for the kinds in kinds.go, with
//     bearer-token auth. Server errors come back as apimachinery's
//     *errors.StatusError, so apierrors.IsNotFound, IsConflict, IsGone and
//     friends work.
//   - Informer: a cache of one kind fed by list+watch. It resumes the watch
//     from the last resourceVersion it saw, relists on 410 Gone or any
//     stream error (with back-off), and calls a notify function after each
//     change. Writers may Observe their own write results so that the next
//     reconciliation sees them before the watch does (stale watch events
//     never overwrite newer state; deleted objects are tomb-stoned).
//
// Promises: Informer.Run is the only goroutine and it ends with its
// context; the Client starts none.
//
// Tests: `go test ./control/controllers/kube` against a real store and API
// server over httptest.
package kube
