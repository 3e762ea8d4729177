package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// settle lets the load client run for d, then fails if it saw a failure
// or no answer since m.
func settle(e *env, l *loadClient, m mark, d time.Duration, what string) (map[string]int, error) {
	time.Sleep(d)
	ok, fail, backends, last := l.since(m)
	e.logf("%s: %d requests answered (by %v), %d failed", what, ok, backends, fail)
	if fail > 0 {
		return nil, fmt.Errorf("%s: %d of %d requests failed (last: %s)", what, fail, ok+fail, last)
	}
	if ok == 0 {
		return nil, fmt.Errorf("%s: %w", what, errNoTraffic)
	}
	return backends, nil
}

// checkRollingUpdate changes the pod template (short eviction
// tolerations, used by the next subtest) and waits for the rollout while
// the client runs: no request may fail.
func checkRollingUpdate(e *env, l *loadClient, _ string) error {
	m := l.mark()
	before := e.readyPods()
	two := int64(2)
	err := e.updateDeployment(func(d *appsv1.Deployment) {
		tpl := &d.Spec.Template
		if tpl.Annotations == nil {
			tpl.Annotations = map[string]string{}
		}
		tpl.Annotations["e2e.weir.dev/revision"] = "2"
		tpl.Spec.Tolerations = []corev1.Toleration{
			{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &two},
			{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &two},
		}
	})
	if err != nil {
		return err
	}
	if err := e.waitFor("the rollout of 3 new demo pods", 150*time.Second, func() bool {
		if !e.rolledOut(3) {
			return false
		}
		for _, p := range e.readyPods() {
			for _, b := range before {
				if p.Name == b.Name {
					return false
				}
			}
		}
		return true
	}); err != nil {
		return fmt.Errorf("%w (pods now %+v)", err, e.readyPods())
	}
	e.logf("rolled out: %+v", e.readyPods())
	backends, err := settle(e, l, m, 2*time.Second, "rolling update")
	if err != nil {
		return err
	}
	for _, p := range e.readyPods() {
		if backends[p.Name] == 0 {
			// The new pods must serve: at least the last answers come from them.
			e.logf("new pod %s has not answered yet", p.Name)
		}
	}
	return nil
}

// checkAgentKilled kills the agent of a node (not the client's) that
// runs a demo pod: requests keep succeeding, the node turns NotReady, its
// pod is evicted and replaced on another node, and then only pods on the
// live nodes answer.
func checkAgentKilled(e *env, l *loadClient, _ string) error {
	clientNode := e.lc.Nodes()[0].Name
	var victim string
	for _, p := range e.readyPods() {
		if p.Node != clientNode {
			victim = p.Node
			break
		}
	}
	if victim == "" {
		return fmt.Errorf("no demo pod outside %s: %+v", clientNode, e.readyPods())
	}
	pid, ok := e.lc.PID(victim)
	if !ok {
		return fmt.Errorf("agent of %s does not run", victim)
	}
	m := l.mark()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill agent %s (PID %d): %w", victim, pid, err)
	}
	killed := time.Now()
	e.logf("killed agent %s (PID %d)", victim, pid)
	if err := e.waitFor("3 Ready demo pods, none on "+victim, 150*time.Second, func() bool {
		ps := e.readyPods()
		for _, p := range ps {
			if p.Node == victim {
				return false
			}
		}
		return len(ps) == 3
	}); err != nil {
		return fmt.Errorf("%w (pods %+v)", err, e.readyPods())
	}
	e.logf("pods rescheduled %v after the kill: %+v", time.Since(killed).Round(100*time.Millisecond), e.readyPods())
	if _, err := settle(e, l, m, time.Second, "agent killed"); err != nil {
		return err
	}
	// From now on only the pods on live nodes answer.
	time.Sleep(time.Second)
	m = l.mark()
	backends, err := settle(e, l, m, 3*time.Second, "after the move")
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, p := range e.readyPods() {
		live[p.Name] = true
	}
	for b := range backends {
		if !live[b] {
			return fmt.Errorf("after the move, %s answered, not one of the live pods %v", b, live)
		}
	}
	return nil
}

// checkLeaderKilled kills the raft leader: a write through the API
// proxy (scaling the demo) succeeds and is acted on by the new leader's
// controllers, and the client never fails.
func checkLeaderKilled(e *env, l *loadClient, _ string) error {
	ms, err := e.api.Members(e.ctx)
	if err != nil {
		return err
	}
	leader := ""
	for _, mb := range ms {
		if mb.Leader {
			leader = mb.Name
		}
	}
	pid, ok := e.lc.PID(leader)
	if leader == "" || !ok {
		return fmt.Errorf("no running leader among %+v", ms)
	}
	m := l.mark()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill leader %s (PID %d): %w", leader, pid, err)
	}
	killed := time.Now()
	e.logf("killed control leader %s (PID %d)", leader, pid)
	if err := e.updateDeployment(func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(4)) }); err != nil {
		return fmt.Errorf("write after the leader died: %w", err)
	}
	e.logf("write accepted %v after the kill", time.Since(killed).Round(100*time.Millisecond))
	if err := e.waitFor("4 Ready demo pods", 90*time.Second, func() bool { return len(e.readyPods()) == 4 }); err != nil {
		return fmt.Errorf("%w (pods %+v)", err, e.readyPods())
	}
	newLeader := ""
	if ms, err := e.api.Members(e.ctx); err == nil {
		for _, mb := range ms {
			if mb.Leader {
				newLeader = mb.Name
			}
		}
	}
	e.logf("new leader %s; demo scaled to 4 %v after the kill", newLeader, time.Since(killed).Round(100*time.Millisecond))
	if newLeader == "" || newLeader == leader {
		return fmt.Errorf("leader after the kill: %q (killed %s)", newLeader, leader)
	}
	if _, err := settle(e, l, m, time.Second, "leader killed"); err != nil {
		return err
	}
	return checkStatusSeesDeadMember(e, leader)
}

var liveReady = regexp.MustCompile(`(?m)^  ok  control-\d .* ready$`)

// checkStatusSeesDeadMember runs `weir status --probe-members` from the
// underlay (where the members' addresses are): the dead member is a
// problem, the two live ones are ready, and the command fails.
func checkStatusSeesDeadMember(e *env, dead string) error {
	var live string
	for _, mb := range e.lc.Members() {
		if mb.Name != dead {
			live = mb.API
			break
		}
	}
	out, err := e.lc.InUnderlay(e.ctx, e.bin+"/weir", "status", "--probe-members", "--server", "https://"+live, "--token", e.lc.Token(),
		"--certificate-authority", filepath.Join(e.lc.DataDir, "control", "ca.crt"))
	if err == nil || !strings.Contains(out, "!!  "+dead) || len(liveReady.FindAllString(out, -1)) != 2 {
		return fmt.Errorf("weir status with %s dead: err %v, output:\n%s", dead, err, out)
	}
	e.logf("weir status with %s dead:\n%s", dead, out)
	return nil
}
