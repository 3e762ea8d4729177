package runtime

import corev1 "k8s.io/api/core/v1"

// setStarted records that the container's startup probe succeeded.
func (w *podWorker) setStarted(name string) {
	w.updateIf(name, func(c *ctrState) bool { c.startupOK = true; return true })
}

// setReady records the readiness probe's result; it reports (and says)
// whether readiness changed.
func (w *podWorker) setReady(name string, ready bool) bool {
	return w.updateIf(name, func(c *ctrState) bool {
		changed := c.ready != ready
		c.ready = ready
		return changed
	})
}

// isStarted says the container's startup probe succeeded.
func (w *podWorker) isStarted(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ctrs[name] != nil && w.ctrs[name].startupOK
}

// readiness is the container's started and ready: started once running
// and past its startup probe; ready once started and passing its
// readiness probe (a probe the container does not have does not count).
func (c *ctrState) readiness(spec *corev1.Container) (started, ready bool) {
	started = c.state.Running != nil && (spec == nil || spec.StartupProbe == nil || c.startupOK)
	ready = started && (spec == nil || spec.ReadinessProbe == nil || c.ready)
	return started, ready
}
