// Package relist runs a list-then-watch loop until its context ends,
// starting over after a pause whenever the watch fails: the one loop the
// store's in-memory followers (RBAC index, revocation list and controller)
// share.
package relist

import (
	"context"
	"time"
)

// Run calls once until ctx ends; after each return it calls failed with
// the error (unless ctx ended) and waits pause before the next call.
func Run(ctx context.Context, pause time.Duration, once func(context.Context) error, failed func(error)) {
	for ctx.Err() == nil {
		err := once(ctx)
		if ctx.Err() != nil {
			return
		}
		failed(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}
