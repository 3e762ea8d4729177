package runtime

import (
	"context"
	"errors"
	"sync"

	containerd "github.com/containerd/containerd"
)

// errPullAbandoned: the pod stopped while it waited for its image.
var errPullAbandoned = errors.New("the pod stopped while its image was pulled")

// pullFlight is one pull of a reference that every pod wanting that
// image meanwhile waits for. It runs under the runtime's context with
// pullTimeout, and is cancelled when no pod waits for it any more.
type pullFlight struct {
	done    chan struct{} // closed with img/err set
	img     containerd.Image
	err     error
	waiters int
	cancel  context.CancelFunc
}

// pulls are the pulls under way, by reference and credentials.
type pulls struct {
	mu      sync.Mutex
	flights map[string]*pullFlight
}

// sharedPull pulls ref with creds (see pull), or joins the pull of ref
// with the same credentials under way, and waits for it; ctx ending (the
// runtime detaches) or stop closing (the pod terminates) ends the wait.
func (r *Runtime) sharedPull(ctx context.Context, ref string, creds []pullCred, stop <-chan struct{}) (containerd.Image, error) {
	key := ref + credsKey(creds)
	f := r.joinPull(key, func(ctx context.Context) (containerd.Image, error) { return r.pull(ctx, ref, creds) })
	select {
	case <-f.done:
		return f.img, f.err
	case <-ctx.Done():
		r.leavePull(key, f)
		return nil, ctx.Err()
	case <-stop:
		r.leavePull(key, f)
		return nil, errPullAbandoned
	}
}

// joinPull returns the flight of key, starting one (pull) if none is
// under way.
// The caller is inside a pod worker (counted in r.wg), so adding to the
// wait group here cannot race with Close's Wait.
func (r *Runtime) joinPull(ref string, pull func(context.Context) (containerd.Image, error)) *pullFlight {
	r.pulls.mu.Lock()
	defer r.pulls.mu.Unlock()
	if r.pulls.flights == nil {
		r.pulls.flights = map[string]*pullFlight{}
	}
	if f := r.pulls.flights[ref]; f != nil {
		f.waiters++
		return f
	}
	ctx, cancel := context.WithTimeout(r.ctx, pullTimeout)
	f := &pullFlight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	r.pulls.flights[ref] = f
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		img, err := pull(ctx)
		r.pulls.mu.Lock()
		if r.pulls.flights[ref] == f {
			delete(r.pulls.flights, ref)
		}
		f.img, f.err = img, err
		r.pulls.mu.Unlock()
		close(f.done)
	}()
	return f
}

// leavePull stops waiting for f; the last waiter to leave cancels it, and
// a later pod starts a new one.
func (r *Runtime) leavePull(ref string, f *pullFlight) {
	r.pulls.mu.Lock()
	defer r.pulls.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.cancel()
	if r.pulls.flights[ref] == f {
		delete(r.pulls.flights, ref)
	}
}
