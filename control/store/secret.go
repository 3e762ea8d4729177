package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// The cluster secret (Config.Secret) only admits new members (the join
// exchange). It is rotated in two phases, on every member of the raft
// configuration: "stage" makes a new random secret the one this member
// proves and keeps the replaced one accepted (Config.SecretFile holds the
// new one, SecretFile.previous the old one, so a restart keeps both);
// "finish" drops the old one (and gives the new one to a member that
// joined with the old one meanwhile). Between the two, a new member may join
// with either secret; after, only with the new one.

// previousSecretSuffix names the file of the replaced secret while a
// rotation is in its transition.
const previousSecretSuffix = ".previous"

// secrets is what the member proves (cur) and also accepts (prev).
type secrets struct {
	cur, prev []byte
}

type secretState struct {
	mu  sync.Mutex // serializes changes and their files
	set atomic.Pointer[secrets]
}

// SecretResult reports a cluster secret rotation phase.
type SecretResult struct {
	Phase   string   // "stage" or "finish"
	Members []string // members that finished the phase
}

type secretReq struct {
	Phase  string // "stage" or "finish"
	Secret string
}

type rotateSecretReq struct{ Finish bool }

// loadSecrets sets the current secret from the config and the accepted
// previous one from SecretFile.previous, if a rotation left one.
func (s *Store) loadSecrets() error {
	st := &secrets{cur: s.cfg.Secret}
	if f := s.cfg.SecretFile; f != "" {
		data, err := os.ReadFile(f + previousSecretSuffix)
		switch {
		case err == nil:
			if p := strings.TrimSpace(string(data)); len(p) >= 16 && p != string(st.cur) {
				st.prev = []byte(p)
			}
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
	}
	s.secret.set.Store(st)
	return nil
}

// acceptedSecrets are the secrets a joining member may prove, the
// current one first.
func (s *Store) acceptedSecrets() [][]byte {
	st := s.secret.set.Load()
	if st.prev != nil {
		return [][]byte{st.cur, st.prev}
	}
	return [][]byte{st.cur}
}

func (s *Store) currentSecret() []byte { return s.secret.set.Load().cur }

func (s *Store) handleSetSecret(_ context.Context, r *secretReq) (*emptyResp, error) {
	if len(r.Secret) < 16 {
		return nil, errors.New("cluster secret rotation: the new secret is too short")
	}
	s.secret.mu.Lock()
	defer s.secret.mu.Unlock()
	cur := s.secret.set.Load()
	f := s.cfg.SecretFile
	switch r.Phase {
	case "stage":
		if string(cur.cur) == r.Secret {
			return &emptyResp{}, nil
		}
		if f != "" {
			// The old secret is kept first: a crash in between leaves both.
			if err := writeTokenFile(f+previousSecretSuffix, string(cur.cur)); err != nil {
				return nil, fmt.Errorf("cluster secret rotation: write %s: %w", f+previousSecretSuffix, err)
			}
			if err := writeTokenFile(f, r.Secret); err != nil {
				return nil, fmt.Errorf("cluster secret rotation: write %s: %w", f, err)
			}
		}
		s.secret.set.Store(&secrets{cur: []byte(r.Secret), prev: cur.cur})
		s.log.Info("cluster secret replaced; the previous one is still accepted for joins", "file", f)
	case "finish":
		// A member that joined with the old secret during the transition
		// takes the new one here.
		if f != "" {
			if string(cur.cur) != r.Secret {
				if err := writeTokenFile(f, r.Secret); err != nil {
					return nil, fmt.Errorf("cluster secret rotation: write %s: %w", f, err)
				}
			}
			if err := os.Remove(f + previousSecretSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("cluster secret rotation: %w", err)
			}
		}
		s.secret.set.Store(&secrets{cur: []byte(r.Secret)})
		s.log.Info("previous cluster secret dropped: joins need the new one", "file", f)
	default:
		return nil, fmt.Errorf("cluster secret rotation: unknown phase %q", r.Phase)
	}
	return &emptyResp{}, nil
}

// RotateSecretAt asks the cluster, through the member at peerAddr and with
// the member certificate in dataDir, to replace the cluster secret
// (finish false: every member proves a new one and still accepts the old
// one) or to drop the old one (finish true).
func RotateSecretAt(ctx context.Context, dataDir, peerAddr string, finish bool) (SecretResult, error) {
	var res SecretResult
	err := callAt(ctx, dataDir, peerAddr, "RotateSecret", &rotateSecretReq{Finish: finish}, &res)
	return res, err
}

func (s *Store) handleRotateSecret(ctx context.Context, r *rotateSecretReq) (*SecretResult, error) {
	var resp SecretResult
	if fwd, err := s.forward(ctx, "RotateSecret", r, &resp); fwd {
		return &resp, err
	}
	s.enc.rotateMu.Lock() // one rotation of any kind at a time
	defer s.enc.rotateMu.Unlock()
	req := &secretReq{Phase: "stage"}
	if r.Finish {
		st := s.secret.set.Load()
		if st.prev == nil {
			return nil, errors.New("cluster secret rotation: no rotation to finish (start one with rotate-secret)")
		}
		req.Phase, req.Secret = "finish", string(st.cur)
	} else {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		req.Secret = hex.EncodeToString(b)
	}
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	out := &SecretResult{Phase: req.Phase}
	var failed []string
	// Each phase runs to the end even if the caller goes away.
	for _, srv := range f.Configuration().Servers {
		err := func(ctx context.Context, srv raft.Server) error {
			if srv.ID == raft.ServerID(s.cfg.Name) {
				_, err := s.handleSetSecret(ctx, req)
				return err
			}
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			return s.peers.call(cctx, string(srv.Address), "SetSecret", req, &emptyResp{})
		}(context.WithoutCancel(ctx), srv)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s): %v", srv.ID, srv.Address, err))
			continue
		}
		out.Members = append(out.Members, string(srv.ID))
	}
	if len(failed) > 0 {
		if req.Phase == "stage" {
			return nil, fmt.Errorf("cluster secret rotation: these members still prove the old secret (they accept both; run rotate-secret again): %s", strings.Join(failed, "; "))
		}
		return nil, fmt.Errorf("cluster secret rotation: these members still accept the old secret (run rotate-secret --finish again): %s", strings.Join(failed, "; "))
	}
	s.log.Info("cluster secret rotation", "phase", req.Phase, "members", out.Members)
	return out, nil
}
