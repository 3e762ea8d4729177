package node

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// staticPods is what the agent holds of its manifest directory: the
// static pods it runs and the mirrors it sent on the current stream.
type staticPods struct {
	src      *manifestDir // used by refreshStatic only
	mu       sync.Mutex
	pods     map[string]corev1.Pod // namespace/name
	read     bool                  // the dir was read at least once
	fileErrs map[string]bool       // errors logged already (logged again once fixed and broken anew)

	stream *agentStream          // the stream the mirrors below went out on
	sent   map[string]mirrorSent // namespace/name
}

type mirrorSent struct {
	uid  string
	at   time.Time
	seen bool // the stream has shown it since: its absence now is a deletion
}

// mirrorResend is how long the agent waits for a mirror it sent to show
// up in the node stream before it sends it again.
const mirrorResend = 10 * time.Second

func newStaticPods() *staticPods {
	return &staticPods{pods: map[string]corev1.Pod{}, fileErrs: map[string]bool{}, sent: map[string]mirrorSent{}}
}

func (s *staticPods) list() []corev1.Pod {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return sorted(s.pods)
}

// runStatic reads the manifest dir once, starts its pods (without waiting
// for the control plane) and polls it until ctx ends; stop waits for the
// poller.
func (a *Agent) runStatic(ctx context.Context) (stop func()) {
	if a.pods == nil || a.cfg.ManifestDir == "" {
		return func() {}
	}
	a.log.Info("static pods", "manifestDir", a.cfg.ManifestDir, "poll", a.cfg.ManifestPoll)
	a.refreshStatic()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(a.cfg.ManifestPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				a.refreshStatic()
			}
		}
	}()
	return func() { cancel(); <-done }
}

// refreshStatic rereads the manifest dir; a changed set of static pods is
// synced to the runtime, and the mirrors are checked either way.
func (a *Agent) refreshStatic() {
	s := a.static
	if s.src == nil {
		s.src = newManifestDir(a.cfg.ManifestDir, a.cfg.NodeName)
	}
	pods, errs, err := s.src.poll()
	s.mu.Lock()
	if err != nil {
		if !s.fileErrs[err.Error()] {
			a.log.Error("static pods: manifest dir unreadable; keeping the static pods as they are", "error", err)
		}
		s.fileErrs = map[string]bool{err.Error(): true}
		s.mu.Unlock()
		return
	}
	logged := map[string]bool{}
	for _, e := range errs {
		if !s.fileErrs[e.Error()] {
			a.log.Error("static pods: invalid manifest; fix the file", "error", e)
		}
		logged[e.Error()] = true
	}
	s.fileErrs = logged
	next := map[string]corev1.Pod{}
	for _, p := range pods {
		next[p.Namespace+"/"+p.Name] = p
	}
	changed := !s.read || !maps.EqualFunc(s.pods, next, func(x, y corev1.Pod) bool { return x.UID == y.UID })
	if changed {
		for k, p := range next {
			if old, ok := s.pods[k]; !ok || old.UID != p.UID {
				a.log.Info("static pod", "pod", k, "uid", p.UID, "hash", p.Annotations[AnnotationConfigHash])
			}
		}
		for k, p := range s.pods {
			if _, ok := next[k]; !ok {
				a.log.Info("static pod removed", "pod", k, "uid", p.UID)
			}
		}
	}
	s.pods, s.read = next, true
	s.mu.Unlock()
	if changed {
		a.syncPods()
		return
	}
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.mu.Lock()
	state := a.state.Pods()
	a.mu.Unlock()
	a.syncMirrors(state)
}

// partialSyncer is a PodRuntime that can run pods before it knows them
// all (node/runtime.Runtime).
type partialSyncer interface{ SyncPartial([]corev1.Pod) }

// withStatic merges the stream's pods for this node (mirror pods left
// out: the agent runs their static pods) with the static pods. Static
// pods on the pod network wait for the CNI config (written once the node
// registered): they would only fail and back off without it.
func (a *Agent) withStatic(stream []corev1.Pod) []corev1.Pod {
	staticKeys := map[string]bool{}
	var static []corev1.Pod
	cniReady := a.cniConfExists()
	for _, p := range a.static.list() {
		staticKeys[p.Namespace+"/"+p.Name] = true
		if p.Spec.HostNetwork || cniReady {
			static = append(static, p)
		}
	}
	out := make([]corev1.Pod, 0, len(stream)+len(static))
	for _, p := range stream {
		if !isMirror(&p) && !staticKeys[p.Namespace+"/"+p.Name] {
			out = append(out, p)
		}
	}
	return append(out, static...)
}

func (a *Agent) cniConfExists() bool {
	_, err := os.Stat(filepath.Join(a.cfg.CNIConfDir, CNIConfName))
	return err == nil
}

// syncMirrors sends, on the current stream, the mirror of every static
// pod that the node's pods (from the stream) lack, hold with another UID
// or hold terminating (and every mirror on a new stream), and deletes the
// mirrors of pods that are no longer static pods here. A mirror that went
// out is sent again once the stream showed it and then lost it (deleted
// through the API), after mirrorResend if it never showed up, or on a new
// stream. Called with a.syncMu held.
func (a *Agent) syncMirrors(state []corev1.Pod) {
	a.mu.Lock()
	st := a.stream
	a.mu.Unlock()
	s := a.static
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st == nil || !s.read {
		return
	}
	force := s.stream != st // a new stream: every mirror is sent again
	if force {
		s.stream, s.sent = st, map[string]mirrorSent{}
	}
	have := map[string]*corev1.Pod{}
	for i := range state {
		p := &state[i]
		if p.Spec.NodeName == a.cfg.NodeName {
			have[p.Namespace+"/"+p.Name] = p
		}
	}
	for k, p := range s.pods {
		last, sentBefore := s.sent[k]
		if m := have[k]; !force && m != nil && isMirror(m) && m.UID == p.UID && m.DeletionTimestamp == nil {
			if sentBefore && !last.seen {
				last.seen = true
				s.sent[k] = last
			}
			continue
		}
		if sentBefore && last.uid == string(p.UID) && !last.seen && time.Since(last.at) < mirrorResend {
			continue // on its way back
		}
		if err := a.sendMirror(st, p); err != nil {
			a.log.Warn("send mirror pod; retrying on the next connection", "pod", k, "error", err)
			return
		}
		s.sent[k] = mirrorSent{uid: string(p.UID), at: time.Now()}
	}
	for k, m := range have {
		if _, static := s.pods[k]; static || !isMirror(m) {
			continue
		}
		if last, ok := s.sent[k]; ok && last.uid == "" && time.Since(last.at) < mirrorResend {
			continue
		}
		if err := st.send(&pb.AgentMessage{Msg: &pb.AgentMessage_MirrorPod{MirrorPod: &pb.MirrorPod{Namespace: m.Namespace, Name: m.Name, Deleted: true}}}); err != nil {
			a.log.Warn("delete mirror pod; retrying on the next connection", "pod", k, "error", err)
			return
		}
		a.log.Info("mirror pod of a removed static pod deleted", "pod", k)
		s.sent[k] = mirrorSent{at: time.Now()}
	}
}

// sendMirror sends p's mirror with its latest status, then has the status
// reported again after it (a report that reached the control plane before
// the mirror existed was dropped there).
func (a *Agent) sendMirror(st *agentStream, p corev1.Pod) error {
	key := p.Namespace + "/" + p.Name
	status, _ := a.reports.latestStatus(key)
	js, err := json.Marshal(mirrorOf(p, status))
	if err != nil {
		return err
	}
	if err := st.send(&pb.AgentMessage{Msg: &pb.AgentMessage_MirrorPod{MirrorPod: &pb.MirrorPod{Namespace: p.Namespace, Name: p.Name, PodJson: js}}}); err != nil {
		return err
	}
	a.log.Debug("mirror pod sent", "pod", key, "uid", p.UID)
	a.reports.resend(key)
	return nil
}

// latestStatus is the last status reported for a pod.
func (r *podReports) latestStatus(key string) (corev1.PodStatus, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.latest[key]
	return p.status, ok
}

// resend marks a pod's report unsent.
func (r *podReports) resend(key string) {
	r.mu.Lock()
	p, ok := r.latest[key]
	if ok {
		p.sent = false
		r.latest[key] = p
	}
	r.mu.Unlock()
	if ok {
		r.poke()
	}
}
