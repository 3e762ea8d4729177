package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
)

// The cluster's API token (Config.Token, handed to joining members) is
// rotated in two phases, as the encryption key is: the new token is
// staged on every member of the raft configuration (each accepts the old
// and the new one), and only once all of them have it is it committed on
// every member (each writes Config.TokenFile and stops accepting the old
// one). A member that cannot be reached in the first phase fails the
// rotation and the staged token is withdrawn: the old token keeps working
// everywhere.

type tokenReq struct {
	Phase string // "stage", "commit" or "abort"
	Token string
}

// TokenResult reports a token rotation.
type TokenResult struct {
	Token   string
	Members []string // members that hold only the new token
}

type rotateTokenReq struct{}

// Tokens are the API tokens this member accepts: the current one, and a
// new one while a rotation is staged.
func (s *Store) Tokens() []string {
	out := []string{s.Token()}
	if p, _ := s.pendingToken.Load().(string); p != "" && p != out[0] {
		out = append(out, p)
	}
	return out
}

func (s *Store) handleSetToken(ctx context.Context, r *tokenReq) (*emptyResp, error) {
	switch r.Phase {
	case "stage":
		if len(r.Token) < 16 {
			return nil, errors.New("token rotation: the new token is too short")
		}
		s.pendingToken.Store(r.Token)
	case "abort":
		s.pendingToken.CompareAndSwap(r.Token, "")
	case "commit":
		if len(r.Token) < 16 {
			return nil, errors.New("token rotation: the new token is too short")
		}
		if f := s.cfg.TokenFile; f != "" {
			if err := writeTokenFile(f, r.Token); err != nil {
				return nil, fmt.Errorf("token rotation: write %s: %w", f, err)
			}
		}
		s.token.Store(r.Token)
		s.pendingToken.Store("")
		s.log.Info("API token replaced", "file", s.cfg.TokenFile)
	default:
		return nil, fmt.Errorf("token rotation: unknown phase %q", r.Phase)
	}
	return &emptyResp{}, nil
}

func writeTokenFile(path, tok string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, strings.NewReader(tok+"\n")); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// RotateTokenAt asks the cluster, through the member at peerAddr and with
// the member certificate in dataDir, to replace the API token.
func RotateTokenAt(ctx context.Context, dataDir, peerAddr string) (TokenResult, error) {
	var res TokenResult
	err := callAt(ctx, dataDir, peerAddr, "RotateToken", &rotateTokenReq{}, &res)
	return res, err
}

func (s *Store) handleRotateToken(ctx context.Context, r *rotateTokenReq) (*TokenResult, error) {
	var resp TokenResult
	if fwd, err := s.forward(ctx, "RotateToken", r, &resp); fwd {
		return &resp, err
	}
	s.enc.rotateMu.Lock() // one rotation of either kind at a time
	defer s.enc.rotateMu.Unlock()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	tok := hex.EncodeToString(b)
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	servers := f.Configuration().Servers
	// Withdrawing and committing run to the end even if the caller goes
	// away: a rotation left half done would leave members disagreeing.
	push := func(ctx context.Context, srv raft.Server, phase string) error {
		req := &tokenReq{Phase: phase, Token: tok}
		if srv.ID == raft.ServerID(s.cfg.Name) {
			_, err := s.handleSetToken(ctx, req)
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return s.peers.call(cctx, string(srv.Address), "SetToken", req, &emptyResp{})
	}
	var failed []string
	for _, srv := range servers {
		if err := push(ctx, srv, "stage"); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s): %v", srv.ID, srv.Address, err))
		}
	}
	if len(failed) > 0 {
		for _, srv := range servers {
			if err := push(context.WithoutCancel(ctx), srv, "abort"); err != nil {
				s.log.Warn("token rotation: withdraw the staged token", "member", srv.ID, "error", err)
			}
		}
		return nil, fmt.Errorf("token rotation: not every member took the new token, so the old token stays in force: %s", strings.Join(failed, "; "))
	}
	out := &TokenResult{Token: tok}
	for _, srv := range servers {
		if err := push(context.WithoutCancel(ctx), srv, "commit"); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%s): %v", srv.ID, srv.Address, err))
			continue
		}
		out.Members = append(out.Members, string(srv.ID))
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("token rotation: the new token works on every member, but these still accept the old one too (run the rotation again): %s", strings.Join(failed, "; "))
	}
	s.log.Info("API token rotated", "members", out.Members)
	return out, nil
}

// MemberOp is an operation an embedder runs on the leader for callers
// holding a member certificate (CallAt): it gets the request's JSON and
// answers JSON.
type MemberOp func(ctx context.Context, req json.RawMessage) (any, error)

type opReq struct {
	Name string
	Body json.RawMessage
}

type opResp struct{ Body json.RawMessage }

// CallAt runs the member operation name (Config.Ops) on the leader,
// reached through the member at peerAddr with the member certificate in
// dataDir, and decodes its answer into resp.
func CallAt(ctx context.Context, dataDir, peerAddr, name string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var out opResp
	if err := callAt(ctx, dataDir, peerAddr, "Op", &opReq{Name: name, Body: body}, &out); err != nil {
		return err
	}
	if resp == nil {
		return nil
	}
	return json.Unmarshal(out.Body, resp)
}

func (s *Store) handleOp(ctx context.Context, r *opReq) (*opResp, error) {
	var resp opResp
	if fwd, err := s.forward(ctx, "Op", r, &resp); fwd {
		return &resp, err
	}
	op, ok := s.cfg.Ops[r.Name]
	if !ok {
		return nil, fmt.Errorf("the leader has no operation %q (is it running an older weir?)", r.Name)
	}
	v, err := op(ctx, r.Body)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &opResp{Body: body}, nil
}

// EnsurePeerCert issues this member's certificate now if it has none and
// the CA is at hand (otherwise the first peer connection does): commands
// run on the host (RotateTokenAt, CallAt, RotateEncryptionAt) present it,
// also on a cluster of one member.
func (s *Store) EnsurePeerCert() error {
	_, _, err := s.creds.current()
	return err
}

// callAt calls method on the member at peerAddr as the member whose
// certificate is in dataDir.
func callAt(ctx context.Context, dataDir, peerAddr, method string, req, resp any) error {
	creds := &peerCreds{dir: dataDir, log: slog.Default()}
	if err := creds.load(); err != nil {
		return err
	}
	if !creds.has() {
		return fmt.Errorf("%s holds no member certificate (%s): pass a control member's --data-dir", dataDir, peerCertFile)
	}
	pc := &peerClients{creds: creds, conns: map[string]*grpc.ClientConn{}}
	defer pc.close()
	if err := pc.call(ctx, peerAddr, method, req, resp); err != nil {
		return fmt.Errorf("%s through %s: %w", method, peerAddr, err)
	}
	return nil
}
