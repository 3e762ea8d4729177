package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"google.golang.org/grpc"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/weirnet/weir/control/encrypt"
)

// Values of the resources the member's encryption config covers are
// encrypted in Txn, before they reach raft, so the raft log, the state db,
// its event history and every snapshot hold ciphertext only; Get, List,
// Watch and Txn results decrypt them on the way out. All members share the
// config (EncryptionFile, 0600): the bootstrapping member generates it, a
// joining one receives it over the join exchange, a rotation pushes it to
// every member (RotateEncryption).

// EncryptionFile is the name of the encryption config in a data dir.
const EncryptionFile = "encryption-config.yaml"

// encryptedPrefix starts every value an encryption provider wrote.
var encryptedPrefix = []byte("k8s:enc:")

type encryption struct {
	path     string
	mu       sync.Mutex // serializes set
	rotateMu sync.Mutex // one rotation at a time (on the leader)
	gen      atomic.Pointer[generation]
}

// generation is one encryption config in force. Each Txn holds its
// generation (read-locked) from encrypting its values until it returns,
// so that installing a new config can wait until no write encrypted with
// the previous one is still in flight on this member: after a rotation
// made the new key the writer everywhere, no old-key write can land
// behind the re-encryption pass.
type generation struct {
	cfg      *encrypt.Config // nil: values in plaintext
	tr       *encrypt.Transformers
	inflight sync.RWMutex
}

func newEncryption(path string) *encryption {
	e := &encryption{path: path}
	e.gen.Store(&generation{})
	return e
}

// load reads the member's config; a missing file leaves values in
// plaintext (generate: a new cluster makes one).
func (e *encryption) load(generate bool) (bool, error) {
	c, err := encrypt.Load(e.path)
	if errors.Is(err, os.ErrNotExist) {
		if !generate {
			return false, nil
		}
		if c, err = encrypt.Generate(); err == nil {
			return true, e.set(context.Background(), c)
		}
	}
	if err != nil {
		return false, err
	}
	return true, e.set(context.Background(), c)
}

// set saves c and makes it current, then waits (until ctx ends) for the
// writes that encrypted with the previous config.
func (e *encryption) set(ctx context.Context, c *encrypt.Config) error {
	tr, err := c.Transformers()
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := c.Save(e.path); err != nil {
		return fmt.Errorf("save %s: %w", e.path, err)
	}
	old := e.gen.Swap(&generation{cfg: c, tr: tr})
	drained := make(chan struct{})
	go func() {
		old.inflight.Lock()
		old.inflight.Unlock() //nolint:staticcheck // only waits for the readers
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("store: writes encrypted with the previous encryption config still in flight: %w", ctx.Err())
	}
}

// acquire returns the current generation, read-locked until release.
func (e *encryption) acquire() *generation {
	for {
		g := e.gen.Load()
		g.inflight.RLock()
		if e.gen.Load() == g {
			return g
		}
		g.inflight.RUnlock()
	}
}

func (e *encryption) config() *encrypt.Config             { return e.gen.Load().cfg }
func (e *encryption) transformers() *encrypt.Transformers { return e.gen.Load().tr }

// encryptTxn returns t with the values of covered Puts encrypted with tr
// (t itself is left alone).
func encryptTxn(tr *encrypt.Transformers, t Txn) (Txn, error) {
	out := t
	copied := false
	for i, op := range t.Ops {
		if op.Kind != Put || !tr.Covers(op.Key.Resource) {
			continue
		}
		v, err := tr.ToStorage(op.Key.Resource, op.Key.encode(), op.Value)
		if err != nil {
			return Txn{}, fmt.Errorf("store: encrypt %s: %w", op.Key, err)
		}
		if !copied {
			out.Ops = append([]Op(nil), t.Ops...)
			copied = true
		}
		out.Ops[i].Value = v
	}
	return out, nil
}

// decryptResult puts the caller's plaintext back into a Txn's Put results
// and decrypts the rest.
func (s *Store) decryptResult(res TxnResult, plain Txn) (TxnResult, error) {
	var err error
	if res.Current.Value != nil {
		if res.Current, err = s.decrypt(res.Current); err != nil {
			return TxnResult{}, err
		}
	}
	if len(res.Objects) > 0 {
		objs := make([]Object, len(res.Objects))
		for i, o := range res.Objects {
			if i < len(plain.Ops) && plain.Ops[i].Kind == Put {
				o.Value = plain.Ops[i].Value
			} else if o, err = s.decrypt(o); err != nil {
				return TxnResult{}, err
			}
			objs[i] = o
		}
		res.Objects = objs
	}
	return res, nil
}

// decrypt returns o with its value in plaintext.
func (s *Store) decrypt(o Object) (Object, error) {
	tr := s.enc.transformers()
	if !tr.Covers(o.Key.Resource) || o.Value == nil {
		if bytes.HasPrefix(o.Value, encryptedPrefix) {
			return Object{}, fmt.Errorf("store: %s is encrypted but this member's encryption config does not cover %q (copy the cluster's %s into the data dir)", o.Key, o.Key.Resource, EncryptionFile)
		}
		return o, nil
	}
	v, _, err := tr.FromStorage(o.Key.Resource, o.Key.encode(), o.Value)
	if err != nil {
		return Object{}, fmt.Errorf("store: decrypt %s: %w", o.Key, err)
	}
	o.Value = v
	return o, nil
}

func (s *Store) decryptAll(objs []Object) error {
	for i := range objs {
		o, err := s.decrypt(objs[i])
		if err != nil {
			return err
		}
		objs[i] = o
	}
	return nil
}

// decryptEvent is a watch's view of a stored event (events are shared
// between watchers: never modified in place).
func (s *Store) decryptEvent(ev Event) (Event, error) {
	var err error
	if ev.Object, err = s.decrypt(ev.Object); err != nil {
		return Event{}, err
	}
	if ev.Prev != nil {
		p, err := s.decrypt(*ev.Prev)
		if err != nil {
			return Event{}, err
		}
		ev.Prev = &p
	}
	return ev, nil
}

// EncryptionKeys lists the key names of the member's encryption config,
// the writing key first (nil: values are stored in plaintext).
func (s *Store) EncryptionKeys() []string {
	if c := s.enc.config(); c != nil {
		return c.KeyNames()
	}
	return nil
}

type encryptionReq struct{ Config []byte }

// handleSetEncryption installs a configuration pushed by a rotation.
func (s *Store) handleSetEncryption(ctx context.Context, r *encryptionReq) (*emptyResp, error) {
	c, err := encrypt.Parse(r.Config)
	if err != nil {
		return nil, err
	}
	if err := s.enc.set(ctx, c); err != nil {
		return nil, err
	}
	s.log.Info("encryption config updated", "keys", c.KeyNames())
	return &emptyResp{}, nil
}

// RotateResult reports a rotation.
type RotateResult struct {
	Key       string   // the new writing key
	Dropped   []string // keys removed
	Rewritten int      // values re-encrypted
}

type rotateReq struct{ KeepOld bool }

// RotateEncryption rotates the cluster's encryption key (through the
// leader): a new key is made readable on every member, then writing on
// every member; every value of an encrypted resource not written with it
// is rewritten; then (unless keepOld) the other keys are dropped on every
// member. Every member must be reachable; a rotation that fails part way
// leaves every value readable, and running it again finishes the job.
func (s *Store) RotateEncryption(ctx context.Context, keepOld bool) (RotateResult, error) {
	res, err := s.handleRotate(ctx, &rotateReq{KeepOld: keepOld})
	if err != nil {
		return RotateResult{}, err
	}
	return *res, nil
}

// RotateEncryptionAt asks the member at peerAddr to rotate (see
// RotateEncryption), authenticated by the member certificate kept in
// dataDir: `weir encryption rotate` runs on a member's host.
func RotateEncryptionAt(ctx context.Context, dataDir, peerAddr string, keepOld bool) (RotateResult, error) {
	creds := &peerCreds{dir: dataDir, log: slog.Default()}
	if err := creds.load(); err != nil {
		return RotateResult{}, err
	}
	if !creds.has() {
		return RotateResult{}, fmt.Errorf("%s holds no member certificate (%s): pass a control member's --data-dir", dataDir, peerCertFile)
	}
	pc := &peerClients{creds: creds, conns: map[string]*grpc.ClientConn{}}
	defer pc.close()
	var res RotateResult
	if err := pc.call(ctx, peerAddr, "Rotate", &rotateReq{KeepOld: keepOld}, &res); err != nil {
		return RotateResult{}, fmt.Errorf("rotate through %s: %w", peerAddr, err)
	}
	return res, nil
}

func (s *Store) handleRotate(ctx context.Context, r *rotateReq) (*RotateResult, error) {
	var resp RotateResult
	if fwd, err := s.forward(ctx, "Rotate", r, &resp); fwd {
		return &resp, err
	}
	s.enc.rotateMu.Lock()
	defer s.enc.rotateMu.Unlock()
	cur := s.enc.config()
	if cur == nil {
		cur = &encrypt.Config{}
	}
	k, err := encrypt.NewKey()
	if err != nil {
		return nil, err
	}
	old := cur.KeyNames()
	step1 := cur.AddReadKey(k)
	if err := s.pushEncryption(ctx, step1); err != nil {
		return nil, fmt.Errorf("rotate: add key %s: %w", k.Name, err)
	}
	step2 := step1.Promote(k.Name)
	if err := s.pushEncryption(ctx, step2); err != nil {
		return nil, fmt.Errorf("rotate: write with key %s: %w", k.Name, err)
	}
	n, err := s.rewriteStale(ctx)
	if err != nil {
		return nil, fmt.Errorf("rotate: re-encrypt: %w (every value is still readable; run the rotation again)", err)
	}
	out := &RotateResult{Key: k.Name, Rewritten: n}
	if !r.KeepOld {
		if err := s.pushEncryption(ctx, step2.DropOthers(k.Name)); err != nil {
			return nil, fmt.Errorf("rotate: drop old keys: %w", err)
		}
		out.Dropped = old
	}
	s.log.Info("encryption key rotated", "key", k.Name, "rewritten", n, "dropped", out.Dropped)
	return out, nil
}

// pushEncryption installs c on every member of the raft configuration,
// this one last-but-not-least: all of them, or an error.
func (s *Store) pushEncryption(ctx context.Context, c *encrypt.Config) error {
	data, err := c.Marshal()
	if err != nil {
		return err
	}
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	for _, srv := range f.Configuration().Servers {
		if srv.ID == raft.ServerID(s.cfg.Name) {
			if _, err := s.handleSetEncryption(ctx, &encryptionReq{Config: data}); err != nil {
				return err
			}
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := s.peers.call(cctx, string(srv.Address), "SetEncryption", &encryptionReq{Config: data}, &emptyResp{})
		cancel()
		if err != nil {
			return fmt.Errorf("member %s (%s) unreachable: %w", srv.ID, srv.Address, err)
		}
	}
	return nil
}

// rewriteStale re-encrypts, with the writing key, every value of an
// encrypted resource that another provider wrote, until a pass finds none.
// Each rewrite is conditional on the revision read: a value changed
// meanwhile was written with the current key already.
func (s *Store) rewriteStale(ctx context.Context) (int, error) {
	total := 0
	for pass := 0; pass < 5; pass++ {
		n, err := s.rewritePass(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

func (s *Store) rewritePass(ctx context.Context) (int, error) {
	if err := s.linearize(ctx, ReadOptions{}); err != nil {
		return 0, err
	}
	n := 0
	tr := s.enc.transformers()
	for _, res := range tr.Resources() {
		opts := ListOptions{Resource: res, Limit: 500, ReadOptions: ReadOptions{Stale: true}}
		for {
			page, err := s.fsm.localList(opts)
			if err != nil {
				return n, err
			}
			for _, o := range page.Objects {
				plain, stale, err := tr.FromStorage(res, o.Key.encode(), o.Value)
				if err != nil {
					return n, fmt.Errorf("read %s: %w", o.Key, err)
				}
				if !stale {
					continue
				}
				_, err = s.Txn(ctx, Txn{
					Conds: []Cond{{Kind: RevisionIs, Key: o.Key, Revision: o.Revision}},
					Ops:   []Op{{Kind: Put, Key: o.Key, Value: plain}},
				})
				if err != nil {
					return n, fmt.Errorf("rewrite %s: %w", o.Key, err)
				}
				n++
			}
			if !page.More {
				break
			}
			last := page.Objects[len(page.Objects)-1].Key
			opts.Start = Key{Namespace: last.Namespace, Name: last.Name + "\x00"}
			opts.Revision = page.Revision
		}
	}
	return n, nil
}

func encryptionPath(dataDir string) string { return filepath.Join(dataDir, EncryptionFile) }
