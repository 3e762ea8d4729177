package revoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/weirnet/weir/control/internal/relist"
	"github.com/weirnet/weir/control/store"
)

// Controller is the leader's revocation loop: deleting a Node revokes the
// node certificates issued before the deletion, and entries whose
// certificates expired are pruned.
type Controller struct {
	Store store.Interface
	Log   *slog.Logger
	// PruneEvery is the interval between prunes; default 10 minutes.
	PruneEvery time.Duration
	// Now is the clock of Prune; default time.Now.
	Now func() time.Time
}

// Run follows Nodes until ctx ends (relisting after a failed watch) and
// prunes at start and every PruneEvery.
func (c *Controller) Run(ctx context.Context) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.PruneEvery <= 0 {
		c.PruneEvery = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.PruneEvery)
		defer t.Stop()
		for {
			if n, err := Prune(ctx, c.Store, c.Now()); err != nil && ctx.Err() == nil {
				c.Log.Warn("revocation: prune failed", "error", err)
			} else if n > 0 {
				c.Log.Info("revocation: pruned expired entries", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	defer func() { <-done }()
	relist.Run(ctx, 500*time.Millisecond, c.runOnce, func(err error) {
		c.Log.Warn("revocation: relisting nodes", "error", err)
	})
}

// runOnce reconciles the node certificate records against the Nodes at one
// revision, then follows the Nodes' watch: a DELETED Node revokes its
// certificates recorded before the delete, an ADDED one adopts the
// records of its first join.
func (c *Controller) runOnce(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nodes, err := c.Store.List(ctx, store.ListOptions{Resource: "nodes"})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	recs, err := c.Store.List(ctx, store.ListOptions{Resource: NodeCertsResource, Revision: nodes.Revision})
	if err != nil {
		return fmt.Errorf("list node certificates: %w", err)
	}
	w, err := c.Store.Watch(ctx, store.WatchOptions{Resource: "nodes", Revision: nodes.Revision})
	if err != nil {
		return fmt.Errorf("watch nodes: %w", err)
	}
	created := map[string]uint64{}
	for _, n := range nodes.Objects {
		created[n.Key.Name] = n.CreateRevision
	}
	for _, o := range recs.Objects {
		var rec NodeCert
		if json.Unmarshal(o.Value, &rec) != nil {
			continue
		}
		cur, exists := created[o.Key.Namespace]
		switch {
		case rec.NodeRevision != 0 && cur != rec.NodeRevision:
			// Its Node was deleted (and maybe made again) while no leader
			// followed the Nodes.
			e, r, err := revokeRecord(ctx, c.Store, o, "node deleted")
			if err != nil && ctx.Err() == nil {
				c.Log.Error("revocation: revoke a node certificate", "key", o.Key.String(), "error", err)
			} else if r != 0 {
				c.Log.Info("revoked a node certificate", "node", rec.Node, "serial", e.Serial, "subject", e.Subject, "reason", "node deleted")
			}
		case rec.NodeRevision == 0 && exists && cur > o.CreateRevision:
			c.adopt(ctx, o, rec, cur)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events():
			if !ok {
				if err := w.Err(); err != nil {
					return err
				}
				return errors.New("watch ended")
			}
			switch ev.Type {
			case store.Deleted:
				c.revoke(ctx, ev.Object.Key.Name, "node deleted", ev.Revision)
			case store.Added:
				c.adoptAll(ctx, ev.Object.Key.Name, ev.Object.CreateRevision)
			}
		}
	}
}

func (c *Controller) revoke(ctx context.Context, node, reason string, before uint64) {
	es, _, err := RevokeNode(ctx, c.Store, node, reason, before)
	for _, e := range es {
		c.Log.Info("revoked a node certificate", "node", node, "serial", e.Serial, "subject", e.Subject, "reason", reason)
	}
	if err != nil && ctx.Err() == nil {
		c.Log.Error("revocation: revoke node certificates", "node", node, "error", err)
	}
}

// adoptAll ties the first-join records of node, written before its Node
// was created at rev, to that Node.
func (c *Controller) adoptAll(ctx context.Context, node string, rev uint64) {
	lr, err := c.Store.List(ctx, store.ListOptions{Resource: NodeCertsResource, Namespace: node})
	if err != nil {
		c.Log.Warn("revocation: list node certificates", "node", node, "error", err)
		return
	}
	for _, o := range lr.Objects {
		var rec NodeCert
		if json.Unmarshal(o.Value, &rec) == nil && rec.NodeRevision == 0 && o.CreateRevision < rev {
			c.adopt(ctx, o, rec, rev)
		}
	}
}

func (c *Controller) adopt(ctx context.Context, o store.Object, rec NodeCert, rev uint64) {
	rec.NodeRevision = rev
	val, _ := json.Marshal(rec)
	if _, err := c.Store.Txn(ctx, store.Txn{ID: txnID(),
		Conds: []store.Cond{{Kind: store.RevisionIs, Key: o.Key, Revision: o.Revision}},
		Ops:   []store.Op{{Kind: store.Put, Key: o.Key, Value: val}}}); err != nil && ctx.Err() == nil {
		c.Log.Warn("revocation: tie a node certificate to its Node", "key", o.Key.String(), "error", err)
	}
}
