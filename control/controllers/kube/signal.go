package kube

// Signal is a coalescing wake-up: any number of Notify calls between two
// receives on C wake the receiver once.
type Signal struct{ C chan struct{} }

// NewSignal returns a Signal with one pending wake-up, so that the first
// loop iteration runs.
func NewSignal() *Signal {
	s := &Signal{C: make(chan struct{}, 1)}
	s.Notify()
	return s
}

// Notify wakes the receiver without blocking.
func (s *Signal) Notify() {
	select {
	case s.C <- struct{}{}:
	default:
	}
}
