package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/yaml"
)

// AuditConfig turns on the audit log: one JSON line per request
// (audit.k8s.io/v1 Event, stage ResponseComplete) for each request the
// policy gives level Metadata, written to Writer (an *AuditFile rotates
// by size). weir logs request metadata only: who (user, groups, source
// IP, user agent), what (verb, resource, namespace, name, URI), the
// answer's code, when and how long (both timestamps and the
// weir.io/latency annotation) and the request ID (auditID, also the
// Audit-Id response header). Bodies, Secret values included, never reach
// the log: a policy asking for levels Request or RequestResponse is
// refused.
type AuditConfig struct {
	Writer io.Writer
	// Policy decides each request's level; nil is DefaultAuditPolicy.
	Policy *auditv1.Policy
}

// DefaultAuditPolicy logs every request at Metadata but Events and the
// health and version probes (None), the noisiest and least telling.
func DefaultAuditPolicy() *auditv1.Policy {
	return &auditv1.Policy{Rules: []auditv1.PolicyRule{
		{Level: auditv1.LevelNone, Resources: []auditv1.GroupResources{{Group: "", Resources: []string{"events"}}, {Group: "events.k8s.io", Resources: []string{"events"}}}},
		{Level: auditv1.LevelNone, NonResourceURLs: []string{"/healthz*", "/livez*", "/readyz*", "/version", "/metrics"}},
		{Level: auditv1.LevelMetadata},
	}}
}

// LoadAuditPolicy reads a kube-apiserver audit policy file
// (audit.k8s.io/v1 Policy, YAML or JSON). Rules match as kube-apiserver's
// do (users, userGroups, verbs, resources with resourceNames,
// namespaces, nonResourceURLs; the first matching rule decides; no match
// is None). weir writes one stage, ResponseComplete, at levels None or
// Metadata: a policy asking for bodies (Request, RequestResponse) or
// omitting ResponseComplete is refused, naming the rule, rather than
// accepted and not followed. Omitting the other stages changes nothing.
func LoadAuditPolicy(file string) (*auditv1.Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("audit policy: %w", err)
	}
	var p auditv1.Policy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("audit policy %s: %w", file, err)
	}
	if p.Kind != "" && p.Kind != "Policy" || p.APIVersion != "" && p.APIVersion != auditv1.SchemeGroupVersion.String() {
		return nil, fmt.Errorf("audit policy %s: want kind Policy, apiVersion %s, got %s %s", file, auditv1.SchemeGroupVersion, p.Kind, p.APIVersion)
	}
	if slices.Contains(p.OmitStages, auditv1.StageResponseComplete) {
		return nil, fmt.Errorf("audit policy %s: omitStages: weir writes only the ResponseComplete stage; omitting it would log nothing (use level None instead)", file)
	}
	for i, r := range p.Rules {
		switch r.Level {
		case auditv1.LevelNone, auditv1.LevelMetadata:
		case auditv1.LevelRequest, auditv1.LevelRequestResponse:
			return nil, fmt.Errorf("audit policy %s: rule %d: level %s is not supported: weir logs request metadata only, never bodies (use Metadata)", file, i, r.Level)
		default:
			return nil, fmt.Errorf("audit policy %s: rule %d: unknown level %q (None, Metadata)", file, i, r.Level)
		}
		if slices.Contains(r.OmitStages, auditv1.StageResponseComplete) {
			return nil, fmt.Errorf("audit policy %s: rule %d: omitStages: weir writes only the ResponseComplete stage; omitting it would log nothing (use level None instead)", file, i)
		}
		if len(r.NonResourceURLs) > 0 && (len(r.Resources) > 0 || len(r.Namespaces) > 0) {
			return nil, fmt.Errorf("audit policy %s: rule %d: nonResourceURLs cannot be combined with resources or namespaces", file, i)
		}
	}
	return &p, nil
}

// auditor writes the audit log.
type auditor struct {
	w      io.Writer
	policy *auditv1.Policy
	log    *slog.Logger
	mu     sync.Mutex
	failed bool // the last write failed (logged once until one succeeds)
}

func newAuditor(c *AuditConfig, log *slog.Logger) (*auditor, error) {
	if c == nil {
		return nil, nil
	}
	if c.Writer == nil {
		return nil, errors.New("api: AuditConfig.Writer is required")
	}
	p := c.Policy
	if p == nil {
		p = DefaultAuditPolicy()
	}
	return &auditor{w: c.Writer, policy: p, log: log}, nil
}

// level is the policy's level for a request (first matching rule),
// never above Metadata.
func (a *auditor) level(u user.Info, info *requestAttrs) auditv1.Level {
	for _, r := range a.policy.Rules {
		if ruleMatches(&r, u, info) {
			if r.Level == auditv1.LevelNone {
				return auditv1.LevelNone
			}
			return auditv1.LevelMetadata
		}
	}
	return auditv1.LevelNone
}

// requestAttrs is what a rule matches on.
type requestAttrs struct {
	verb, group, resource, subresource, namespace, name, path string
	resourceRequest                                           bool
}

func ruleMatches(r *auditv1.PolicyRule, u user.Info, a *requestAttrs) bool {
	if len(r.Users) > 0 && !hasString(r.Users, u.GetName()) {
		return false
	}
	if len(r.UserGroups) > 0 {
		ok := false
		for _, g := range u.GetGroups() {
			ok = ok || hasString(r.UserGroups, g)
		}
		if !ok {
			return false
		}
	}
	if len(r.Verbs) > 0 && !hasString(r.Verbs, a.verb) {
		return false
	}
	if len(r.Namespaces) > 0 || len(r.Resources) > 0 {
		if !a.resourceRequest {
			return false
		}
		if len(r.Namespaces) > 0 && !hasString(r.Namespaces, a.namespace) {
			return false
		}
		if len(r.Resources) > 0 && !resourceMatches(r.Resources, a) {
			return false
		}
		return true
	}
	if len(r.NonResourceURLs) > 0 {
		if a.resourceRequest {
			return false
		}
		for _, spec := range r.NonResourceURLs {
			if spec == "*" || spec == a.path || strings.HasSuffix(spec, "*") && strings.HasPrefix(a.path, strings.TrimSuffix(spec, "*")) {
				return true
			}
		}
		return false
	}
	return true
}

// resourceMatches: "pods" matches pods, "pods/log" its subresource,
// "*/log" every resource's, "pods/*" pods and its subresources, "*" all;
// resourceNames restricts by name.
func resourceMatches(grs []auditv1.GroupResources, a *requestAttrs) bool {
	full := a.resource
	if a.subresource != "" {
		full += "/" + a.subresource
	}
	for _, gr := range grs {
		if gr.Group != a.group {
			continue
		}
		ok := len(gr.Resources) == 0
		for _, res := range gr.Resources {
			switch {
			case res == "*", res == full, res == a.resource+"/*",
				strings.HasPrefix(res, "*/") && a.subresource != "" && res[2:] == a.subresource:
				ok = true
			}
		}
		if ok && (len(gr.ResourceNames) == 0 || hasString(gr.ResourceNames, a.name)) {
			return true
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// auditMiddleware runs after authentication: it names the request (the
// client's Audit-ID header or a new UUID, echoed as Audit-Id), and when
// the policy asks for it writes the request's Event once it is answered.
func (s *Server) auditMiddleware(next http.Handler) http.Handler {
	if s.audit == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(auditv1.HeaderAuditID)
		if id == "" || len(id) > 64 {
			id = string(uuid.NewUUID())
		}
		w.Header().Set(auditv1.HeaderAuditID, id)
		u := userFrom(r)
		if u == nil {
			u = &user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}
		}
		attrs := &requestAttrs{path: r.URL.Path, verb: strings.ToLower(r.Method)}
		if info, err := requestInfos.NewRequestInfo(r); err == nil {
			attrs.verb, attrs.resourceRequest = info.Verb, info.IsResourceRequest
			attrs.group, attrs.resource, attrs.subresource = info.APIGroup, info.Resource, info.Subresource
			attrs.namespace, attrs.name = info.Namespace, info.Name
		}
		level := s.audit.level(u, attrs)
		if level == auditv1.LevelNone {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			code := rec.code
			if code == 0 {
				code = http.StatusOK
			}
			if v := recover(); v != nil {
				code = http.StatusInternalServerError
				defer panic(v)
			}
			s.audit.write(s.auditEvent(r, id, level, u, attrs, code, start))
		}()
		next.ServeHTTP(rec, r)
	})
}

func (s *Server) auditEvent(r *http.Request, id string, level auditv1.Level, u user.Info, a *requestAttrs, code int, start time.Time) *auditv1.Event {
	now := time.Now()
	ev := &auditv1.Event{
		TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: auditv1.SchemeGroupVersion.String()},
		Level:    level, AuditID: types.UID(id), Stage: auditv1.StageResponseComplete,
		RequestURI: r.URL.RequestURI(), Verb: a.verb,
		User:                     authnv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()},
		SourceIPs:                sourceIPs(r),
		UserAgent:                r.UserAgent(),
		ResponseStatus:           &metav1.Status{Code: int32(code)},
		RequestReceivedTimestamp: metav1.NewMicroTime(start),
		StageTimestamp:           metav1.NewMicroTime(now),
		Annotations:              map[string]string{"weir.io/latency": now.Sub(start).String()},
	}
	if a.resourceRequest {
		info, _ := requestInfos.NewRequestInfo(r)
		ev.ObjectRef = &auditv1.ObjectReference{Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace, Name: a.name,
			APIGroup: a.group, APIVersion: info.APIVersion}
	}
	if code >= 400 {
		ev.ResponseStatus.Status = metav1.StatusFailure
	} else {
		ev.ResponseStatus.Status = metav1.StatusSuccess
	}
	return ev
}

// sourceIPs is the client's address (weir serves clients directly; it
// does not trust X-Forwarded-For).
func sourceIPs(r *http.Request) []string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if host == "" {
		return nil
	}
	return []string{host}
}

// write appends one JSON line. A failing log does not fail the request
// (as kube-apiserver's blocking backend would); it is reported once.
func (a *auditor) write(ev *auditv1.Event) {
	line, err := json.Marshal(ev)
	if err != nil {
		a.log.Error("audit: encode event", "error", err)
		return
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.w.Write(line); err != nil {
		if !a.failed {
			a.log.Error("audit: write failed; audit events are being lost", "error", err)
		}
		a.failed = true
		return
	}
	a.failed = false
}

// AuditFile is an audit log file rotated by size: when a line would take
// it past MaxBytes, FILE becomes FILE.1 (FILE.1 becomes FILE.2, ...; the
// oldest beyond Backups is removed) and a new FILE starts. Files are 0600.
type AuditFile struct {
	path     string
	maxBytes int64
	backups  int
	mu       sync.Mutex
	f        *os.File
	size     int64
}

// OpenAuditFile opens (appends to) file; maxBytes <= 0 is 100 MiB,
// backups <= 0 keeps 5.
func OpenAuditFile(file string, maxBytes int64, backups int) (*AuditFile, error) {
	if maxBytes <= 0 {
		maxBytes = 100 << 20
	}
	if backups <= 0 {
		backups = 5
	}
	a := &AuditFile{path: file, maxBytes: maxBytes, backups: backups}
	if err := os.MkdirAll(path.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if err := a.open(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *AuditFile) open() error {
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	a.f, a.size = f, st.Size()
	return nil
}

// Write appends p (one or more whole lines), rotating first when p would
// take the file past its size.
func (a *AuditFile) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return 0, os.ErrClosed
	}
	if a.size > 0 && a.size+int64(len(p)) > a.maxBytes {
		if err := a.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := a.f.Write(p)
	a.size += int64(n)
	return n, err
}

func (a *AuditFile) rotate() error {
	if err := a.f.Close(); err != nil {
		return fmt.Errorf("audit log: close for rotation: %w", err)
	}
	a.f = nil
	_ = os.Remove(fmt.Sprintf("%s.%d", a.path, a.backups))
	for i := a.backups - 1; i >= 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", a.path, i), fmt.Sprintf("%s.%d", a.path, i+1))
	}
	rerr := os.Rename(a.path, a.path+".1")
	if err := a.open(); err != nil {
		return err
	}
	if rerr != nil {
		return fmt.Errorf("audit log: rotate: %w", rerr)
	}
	return nil
}

// Close closes the file. Idempotent.
func (a *AuditFile) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}
