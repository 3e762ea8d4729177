package revoke_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/weirnet/weir/control/revoke"
	"github.com/weirnet/weir/control/store"
	"github.com/weirnet/weir/control/store/storetest"
)

var nextSerial = big.NewInt(1000)

// cert is a client certificate for cn from the test CA, NotBefore nb.
func cert(t *testing.T, cn string, nb, na time.Time) *x509.Certificate {
	t.Helper()
	ca, caKey := storetest.CA()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	nextSerial = new(big.Int).Add(nextSerial, big.NewInt(7919))
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: nextSerial,
		Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isRevoked(err error) bool {
	var re *revoke.RevokedError
	return errors.As(err, &re)
}

// TestSetFollowsTheStore: before it is loaded the set refuses every
// certificate; a serial entry revokes that certificate only, a user entry
// the user's certificates issued up to it (not later ones); deleting an
// entry lifts it.
func TestSetFollowsTheStore(t *testing.T) {
	st := storetest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	a1, a2 := cert(t, "alice", now.Add(-revoke.Backdate), now.Add(time.Hour)), cert(t, "alice", now.Add(-revoke.Backdate), now.Add(time.Hour))
	bob := cert(t, "bob", now.Add(-revoke.Backdate), now.Add(time.Hour))

	set := revoke.NewSet(st, storetest.Logger())
	if err := set.Check(a1); !errors.Is(err, revoke.ErrNotLoaded) {
		t.Fatalf("before loading: %v, want ErrNotLoaded", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); set.Run(runCtx) }()
	defer func() { stop(); <-done }()
	eventually(t, "the set to load", set.Loaded)
	for _, c := range []*x509.Certificate{a1, a2, bob} {
		if err := set.Check(c); err != nil {
			t.Fatalf("%s before any revocation: %v", c.Subject, err)
		}
	}

	rev, err := revoke.Put(ctx, st, revoke.Entry{Serial: revoke.SerialOf(a1), Issuer: a1.Issuer.String(), Subject: a1.Subject.String(), NotAfter: a1.NotAfter})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if err := set.Check(a1); !isRevoked(err) {
		t.Errorf("revoked serial: %v", err)
	}
	if err := set.Check(a2); err != nil {
		t.Errorf("another certificate of the same user: %v", err)
	}

	// Every certificate of bob issued until now; one issued after works.
	if rev, err = revoke.Put(ctx, st, revoke.Entry{User: "bob", Revoked: time.Now(), NotAfter: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := set.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
	later := cert(t, "bob", time.Now().Add(time.Second-revoke.Backdate), now.Add(time.Hour))
	if err := set.Check(bob); !isRevoked(err) {
		t.Errorf("bob's certificate after revoking the user: %v", err)
	}
	if err := set.Check(later); err != nil {
		t.Errorf("bob's certificate issued after the revocation: %v", err)
	}

	// Pruning (the entries expired) lifts them.
	if n, err := revoke.Prune(ctx, st, now.Add(2*time.Hour)); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want 2", n, err)
	}
	eventually(t, "the pruned entries to leave the set", func() bool { return set.Check(a1) == nil && set.Check(bob) == nil })
}

// TestPruneOnlyExpired: entries and node certificate records whose
// certificates expired go; the others stay.
func TestPruneOnlyExpired(t *testing.T) {
	st := storetest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	old := cert(t, "system:node:n1", now.Add(-2*time.Hour), now.Add(-time.Hour))
	live := cert(t, "system:node:n1", now.Add(-time.Hour), now.Add(time.Hour))
	for _, c := range []*x509.Certificate{old, live} {
		if err := revoke.RecordNodeCert(ctx, st, "n1", c); err != nil {
			t.Fatal(err)
		}
		if _, err := revoke.Put(ctx, st, revoke.Entry{Serial: revoke.SerialOf(c), NotAfter: c.NotAfter}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := revoke.Put(ctx, st, revoke.Entry{User: "gone", NotAfter: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n, err := revoke.Prune(ctx, st, now); err != nil || n != 3 {
		t.Fatalf("prune: %d, %v; want 3 (an entry, a record, a user entry)", n, err)
	}
	es, err := revoke.Entries(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Serial != revoke.SerialOf(live) {
		t.Errorf("entries after prune: %+v, want only %s", es, revoke.SerialOf(live))
	}
	if _, ok, _ := revoke.NodeCertOf(ctx, st, revoke.SerialOf(old)); ok {
		t.Error("the expired node certificate's record is still there")
	}
	if _, ok, _ := revoke.NodeCertOf(ctx, st, revoke.SerialOf(live)); !ok {
		t.Error("the live node certificate's record was pruned")
	}
}

func putNode(t *testing.T, st store.Interface, name string) {
	t.Helper()
	if _, err := st.Txn(context.Background(), store.Txn{ID: name + time.Now().String(), Ops: []store.Op{{Kind: store.Put,
		Key: store.Key{Resource: "nodes", Name: name}, Value: []byte(`{"kind":"Node","metadata":{"name":"` + name + `"}}`)}}}); err != nil {
		t.Fatal(err)
	}
}

func deleteNode(t *testing.T, st store.Interface, name string) {
	t.Helper()
	if _, err := st.Txn(context.Background(), store.Txn{ID: name + time.Now().String(), Ops: []store.Op{{Kind: store.Delete,
		Key: store.Key{Resource: "nodes", Name: name}}}}); err != nil {
		t.Fatal(err)
	}
}

// TestControllerRevokesDeletedNodes: deleting a Node revokes the
// certificates recorded for it before the delete, not one issued after
// (a new join of the name); a Node deleted while no controller ran is
// refused by the set at once and gets its entry when a controller starts.
func TestControllerRevokesDeletedNodes(t *testing.T) {
	st := storetest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	now := time.Now()
	mk := func(node string) *x509.Certificate {
		c := cert(t, "system:node:"+node, now.Add(-time.Minute), now.Add(time.Hour))
		if err := revoke.RecordNodeCert(ctx, st, node, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	set := revoke.NewSet(st, storetest.Logger())
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { set.Run(runCtx); done <- struct{}{} }()
	ctrlCtx, stopCtrl := context.WithCancel(runCtx)
	go func() { (&revoke.Controller{Store: st, Log: storetest.Logger()}).Run(ctrlCtx); done <- struct{}{} }()
	defer func() { stop(); <-done; <-done }()
	eventually(t, "the set to load", set.Loaded)

	// n1 joins (certificate first, then its Node), renews, is deleted.
	first := mk("n1")
	putNode(t, st, "n1")
	renewed := mk("n1")
	time.Sleep(100 * time.Millisecond) // the controller adopts the first
	deleteNode(t, st, "n1")
	eventually(t, "n1's certificates revoked", func() bool { return isRevoked(set.Check(first)) && isRevoked(set.Check(renewed)) })
	// The name joins again with a new certificate: it is not revoked.
	again := mk("n1")
	putNode(t, st, "n1")
	time.Sleep(300 * time.Millisecond)
	if err := set.Check(again); err != nil {
		t.Fatalf("n1's certificate after it joined again: %v", err)
	}

	// n2 joins; then, with no controller, it is deleted.
	n2 := mk("n2")
	putNode(t, st, "n2")
	eventually(t, "n2's certificate tied to its Node", func() bool {
		rec, ok, _ := revoke.NodeCertOf(ctx, st, revoke.SerialOf(n2))
		return ok && rec.NodeRevision != 0
	})
	stopCtrl()
	<-done
	deleteNode(t, st, "n2")
	pending := mk("n3") // a join whose Node does not exist yet
	// The set refuses it as soon as it sees the delete, controller or not.
	eventually(t, "n2's certificate refused with its Node gone", func() bool { return isRevoked(set.Check(n2)) })
	hasEntry := func(c *x509.Certificate) bool {
		es, _ := revoke.Entries(ctx, st)
		for _, e := range es {
			if e.Serial == revoke.SerialOf(c) {
				return true
			}
		}
		return false
	}
	time.Sleep(200 * time.Millisecond)
	if hasEntry(n2) {
		t.Fatal("an entry for n2 with no controller running")
	}
	go func() { (&revoke.Controller{Store: st, Log: storetest.Logger()}).Run(runCtx); done <- struct{}{} }()
	eventually(t, "the next controller to write n2's entry", func() bool { return hasEntry(n2) })
	if err := set.Check(again); err != nil {
		t.Errorf("n1's live certificate: %v", err)
	}
	if err := set.Check(pending); err != nil {
		t.Errorf("n3's certificate before its Node exists: %v", err)
	}
}
