package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metainternalversionvalidation "k8s.io/apimachinery/pkg/apis/meta/internalversion/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weirnet/weir/control/store"
)

// listBody is a Kind+"List" response.
type listBody struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []object `json:"items"`
}

// get reads one object with kube's resourceVersion semantics: "" the
// latest state (linearizable), "0" any state (this member's), N a state
// not older than N (this member's when it has applied N; 504 "Too large
// resource version" when the store has not reached N).
func (s *Server) get(ctx context.Context, r *http.Request, rq *request) (object, error) {
	var opts store.ReadOptions
	var min uint64
	switch rv := r.URL.Query().Get("resourceVersion"); rv {
	case "":
	case "0":
		opts.Stale = true
	default:
		n, err := parseResourceVersion(rv)
		if err != nil {
			return nil, err
		}
		min, opts.Stale = n, s.store.Revision() >= n
	}
	if opts.Stale {
		s.staleWarning(ctx)
	}
	o, err := s.store.Get(ctx, rq.res.key(rq.namespace, rq.name), opts)
	if err != nil {
		return nil, storeError(err, rq.res, rq.name)
	}
	if cur := s.store.Revision(); cur < min {
		return nil, errTooLargeRV(min, cur)
	}
	obj, err := rq.res.decodeStored(o)
	if err != nil {
		return nil, errInternal(err)
	}
	return obj, nil
}

// listOptions decodes a list or watch query into kube's ListOptions with
// apimachinery's parameter codec, defaults and validates it as
// kube-apiserver does with the WatchList feature on (a watch with
// resourceVersion "" or "0" sends initial events; errors are 422 Invalid
// ListOptions.meta.k8s.io), and builds the selector.
func listOptions(r *http.Request, rq *request) (*metainternalversion.ListOptions, *selector, error) {
	var opts metainternalversion.ListOptions
	if err := metainternalversionscheme.ParameterCodec.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, &opts); err != nil {
		return nil, nil, errBadRequest("%s", err.Error())
	}
	opts.Watch = rq.verb == "watch"
	metainternalversion.SetListOptionsDefaults(&opts, true)
	if errs := metainternalversionvalidation.ValidateListOptions(&opts, true); len(errs) > 0 {
		return nil, nil, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "ListOptions"}, "", errs)
	}
	sel, err := newSelector(rq.res, opts.LabelSelector, opts.FieldSelector)
	if err != nil {
		return nil, nil, err
	}
	return &opts, sel, nil
}

// listPlan is where a list reads: a store list and the revision its
// answer must not be older than.
type listPlan struct {
	store.ListOptions
	min    uint64
	resume string // a continue token's start key, relative to the list (kube's form)
}

// planList applies kube's resourceVersion semantics to a list: continue
// resumes at the token's revision (-1: the latest) and key; "" is the
// latest state (linearizable); "0" any state (this member's); N with
// resourceVersionMatch=Exact, or with a limit and no match, the state at
// N; N otherwise (NotOlderThan) a state not older than N.
func (s *Server) planList(opts *metainternalversion.ListOptions, rq *request) (*listPlan, error) {
	p := &listPlan{ListOptions: store.ListOptions{Resource: rq.res.Resource(), Namespace: rq.namespace}}
	if opts.Limit > 0 {
		p.Limit = int(min(opts.Limit, 1<<30))
	}
	if opts.Continue != "" {
		start, rev, err := decodeContinue(opts.Continue)
		if err != nil {
			return nil, err
		}
		if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
			return nil, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
		}
		p.resume, p.Start = start, continueKey(rq, start)
		if rev > 0 {
			p.Revision = uint64(rev)
		}
		return p, nil
	}
	switch rv := opts.ResourceVersion; rv {
	case "":
	case "0":
		p.Stale = true
	default:
		n, err := parseResourceVersion(rv)
		if err != nil {
			return nil, err
		}
		if opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact || opts.ResourceVersionMatch == "" && p.Limit > 0 {
			p.Revision = n
		} else {
			p.min, p.Stale = n, s.store.Revision() >= n
		}
	}
	return p, nil
}

// list answers a list, a page at a time when limit is set: the page holds
// up to limit matching objects, read at one revision (the first page's,
// which the continue token carries), and a continue token when more may
// follow; remainingItemCount when there is no selector. With a selector it
// reads on until the page is full, the list ends or it has read
// max(10*limit, 1000) objects, so a page may hold fewer items, as kube's.
func (s *Server) list(ctx context.Context, r *http.Request, rq *request) (*listBody, error) {
	opts, sel, err := listOptions(r, rq)
	if err != nil {
		return nil, err
	}
	p, err := s.planList(opts, rq)
	if err != nil {
		return nil, err
	}
	p.CountRemaining = p.Limit > 0 && sel.empty()
	body := &listBody{
		TypeMeta: metav1.TypeMeta{Kind: rq.res.Kind + "List", APIVersion: rq.res.APIVersion()},
		Items:    []object{},
	}
	if p.Stale {
		s.staleWarning(ctx)
	}
	scanned, budget := 0, max(10*p.Limit, 1000)
	for first := true; ; first = false {
		lr, err := s.store.List(ctx, p.ListOptions)
		if err != nil {
			return nil, s.listError(err, rq, p)
		}
		if first {
			if lr.Revision < p.min {
				return nil, errTooLargeRV(p.min, lr.Revision)
			}
			body.ResourceVersion = strconv.FormatUint(lr.Revision, 10)
			// later reads: this member has the revision; read exactly it
			p.Revision, p.Stale = lr.Revision, true
		}
		var last store.Key
		full := false
		for i, o := range lr.Objects {
			obj, err := rq.res.decodeStored(o)
			if err != nil {
				return nil, errInternal(err)
			}
			scanned, last = scanned+1, o.Key
			if sel.matches(obj) {
				body.Items = append(body.Items, obj)
			}
			if p.Limit > 0 && len(body.Items) == p.Limit {
				full = true
				lr.More = lr.More || i < len(lr.Objects)-1
				break
			}
		}
		if !lr.More {
			return body, nil
		}
		if full || scanned >= budget {
			body.Continue = encodeContinue(continueStart(rq, last), int64(lr.Revision))
			if p.CountRemaining && lr.Remaining >= 0 {
				body.RemainingItemCount = &lr.Remaining
			}
			return body, nil
		}
		p.Start = store.Key{Namespace: last.Namespace, Name: last.Name + "\x00"}
	}
}

// listError maps a store error of a list: a revision older than the
// history is 410 Expired, for a continued list with kube's "continue
// parameter is too old" message and a fresh token that continues at the
// latest revision.
//
// A revision this member has not reached (after the store's bounded
// wait) is kube's 504 "Too large resource version".
func (s *Server) listError(err error, rq *request, p *listPlan) error {
	if errors.Is(err, store.ErrFutureRevision) {
		return errTooLargeRV(max(p.Revision, p.min), s.store.Revision())
	}
	if !errors.Is(err, store.ErrGone) {
		return storeError(err, rq.res, "")
	}
	if p.resume == "" {
		return errTooOld(err)
	}
	se := errGone("The provided continue parameter is too old to display a consistent list result. " +
		"You can start a new list without the continue parameter, or use the continue token in this response " +
		"to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent " +
		"list - objects that were created, modified, or deleted between the time the first chunk was returned " +
		"and now may show up in the list.")
	se.ErrStatus.ListMeta.Continue = encodeContinue(p.resume, -1)
	return se
}

// staleWarning adds a Warning header (299) to a stale read's answer
// when this member knows it may be out of date (lagging, no leader,
// cannot apply): the client asked for any state, but should know.
func (s *Server) staleWarning(ctx context.Context) {
	sw, ok := s.store.(interface{ StaleWarning() string })
	if !ok {
		return
	}
	if msg := sw.StaleWarning(); msg != "" {
		if w, ok := ctx.Value(warningKey{}).(http.Header); ok {
			w.Add("Warning", fmt.Sprintf("299 - %q", msg))
		}
	}
}

// warningKey carries the response headers to the reads that may warn.
type warningKey struct{}

// errTooOld is kube's 410 for a list or watch at a revision the history no
// longer holds: "too old resource version: X (oldest served)".
func errTooOld(err error) *apierrors.StatusError {
	var ge *store.GoneError
	if errors.As(err, &ge) {
		return errGone(fmt.Sprintf("too old resource version: %d (%d)", ge.Revision, ge.Oldest))
	}
	return errGone("too old resource version: " + err.Error())
}

// errTooLargeRV is kube's 504 for a resourceVersion the store has not
// reached (client-go recognises it by its cause).
func errTooLargeRV(want, cur uint64) *apierrors.StatusError {
	se := errTimeout(fmt.Sprintf("Too large resource version: %d, current: %d", want, cur))
	se.ErrStatus.Details.Causes = []metav1.StatusCause{
		{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}
	return se
}

func parseResourceVersion(rv string) (uint64, error) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, errBadRequest("invalid resource version %q: want the decimal resourceVersion of an earlier answer", rv)
	}
	return n, nil
}

// continueToken is kube's continue token: base64 (URL alphabet, no
// padding) of this JSON. Start is the key to resume at, relative to the
// list: "name\x00" (one namespace, or a cluster-scoped kind) or
// "namespace/name\x00" (all namespaces); rv is the list's revision, -1
// for "the latest".
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

func encodeContinue(start string, rv int64) string {
	data, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", ResourceVersion: rv, StartKey: start})
	return base64.RawURLEncoding.EncodeToString(data)
}

// continueStart is the relative start key just after last.
func continueStart(rq *request, last store.Key) string {
	if rq.res.Namespaced && rq.namespace == "" {
		return last.Namespace + "/" + last.Name + "\x00"
	}
	return last.Name + "\x00"
}

// continueKey is the store key a relative start key names.
func continueKey(rq *request, start string) store.Key {
	if rq.res.Namespaced && rq.namespace == "" {
		ns, name, _ := strings.Cut(start, "/")
		return store.Key{Namespace: ns, Name: name}
	}
	return store.Key{Namespace: rq.namespace, Name: start}
}

// decodeContinue checks a continue token as kube-apiserver does (400
// "invalid continue token: continue key is not valid..." otherwise).
func decodeContinue(tok string) (string, int64, error) {
	bad := func(why string) error {
		return apierrors.NewBadRequest("invalid continue token: continue key is not valid" + why)
	}
	data, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", 0, bad(": " + err.Error())
	}
	var c continueToken
	if err := json.Unmarshal(data, &c); err != nil {
		return "", 0, bad(": " + err.Error())
	}
	if c.APIVersion != "meta.k8s.io/v1" {
		return "", 0, bad(": server does not recognize this encoded version " + c.APIVersion)
	}
	if c.ResourceVersion == 0 {
		return "", 0, bad(": incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
	}
	if c.StartKey == "" {
		return "", 0, bad(": encoded start key empty (version meta.k8s.io/v1)")
	}
	key := c.StartKey
	if !strings.HasPrefix(key, "/") {
		key = "/" + key
	}
	if path.Clean(key) != key {
		return "", 0, bad(": " + c.StartKey)
	}
	return key[1:], c.ResourceVersion, nil
}
