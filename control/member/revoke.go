package member

import (
	"context"

	"github.com/weirnet/weir/control/revoke"
)

// startRevocation loads the certificate revocation list and keeps it
// current; the API and the node stream refuse certificates it names, and
// every client certificate until it is loaded.
func (m *Member) startRevocation() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.revoked = revoke.NewSet(m.Store, m.log)
	go func() {
		defer close(done)
		m.revoked.Run(ctx)
	}()
	m.stopRevoked = func() { cancel(); <-done }
}

// revocationLoop is the leader's revocation controller: deleting a Node
// revokes its certificates; expired entries are pruned.
func (m *Member) revocationLoop(ctx context.Context) {
	(&revoke.Controller{Store: m.Store, Log: m.log}).Run(ctx)
}
