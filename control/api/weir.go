package api

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weirnet/weir/control/store"
)

// MemberList is the body of GET /weir/v1/members.
type MemberList struct {
	Members []store.Member `json:"members"`
}

// memberResource names members in Status errors.
var memberResource = &resource{kindInfo: kindInfo{Version: "v1", Kind: "Member", Plural: "members", Singular: "member"}}

// serveWeir answers the weir-specific endpoints: GET /weir/v1/members,
// DELETE /weir/v1/members/{name} and GET /weir/v1/snapshot.
func (s *Server) serveWeir(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/weir/v1/")
	if rest == "revocations" && s.cfg.Revocations != nil {
		s.serveRevocations(w, r)
		return
	}
	if s.cfg.Cluster == nil {
		s.writeError(w, r, errNoRoute())
		return
	}
	switch name, isMember := strings.CutPrefix(rest, "members/"); {
	case rest == "members" && r.Method == http.MethodGet:
		setLabels(r.Context(), "list", "members")
		s.listMembers(w, r)
	case isMember && name != "" && !strings.Contains(name, "/") && r.Method == http.MethodDelete:
		setLabels(r.Context(), "delete", "members")
		s.removeMember(w, r, name)
	case rest == "snapshot" && r.Method == http.MethodGet:
		setLabels(r.Context(), "get", "snapshot")
		s.saveSnapshot(w, r)
	case rest == "members" || rest == "snapshot" || isMember:
		s.writeError(w, r, errMethodNotAllowed())
	default:
		s.writeError(w, r, errNoRoute())
	}
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := s.cfg.Cluster.Members(r.Context())
	if err != nil {
		s.writeError(w, r, storeError(err, memberResource, ""))
		return
	}
	if ms == nil {
		ms = []store.Member{}
	}
	if r.URL.Query().Get("probe") == "true" {
		s.writeObject(w, r, http.StatusOK, struct {
			Members []MemberHealth `json:"members"`
		}{probeMembers(r.Context(), s.memberProbeClient(), ms)})
		return
	}
	s.writeObject(w, r, http.StatusOK, MemberList{Members: ms})
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, name string) {
	if err := s.cfg.Cluster.RemoveMember(r.Context(), name); err != nil {
		s.writeError(w, r, storeError(err, memberResource, name))
		return
	}
	s.writeObject(w, r, http.StatusOK, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess, Code: http.StatusOK,
		Message: fmt.Sprintf("member %q removed", name),
	})
}

// saveSnapshot spools the snapshot to a temporary file first, so that the
// X-Weir-Revision header and Content-Length can precede the body and a
// failed snapshot is an error rather than a truncated download.
func (s *Server) saveSnapshot(w http.ResponseWriter, r *http.Request) {
	f, err := os.CreateTemp("", "weir-snapshot-*")
	if err != nil {
		s.writeError(w, r, errInternal(fmt.Errorf("create snapshot spool file: %w", err)))
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rev, err := s.cfg.Cluster.SaveSnapshot(r.Context(), f)
	if err != nil {
		s.writeError(w, r, storeError(fmt.Errorf("save snapshot: %w", err), memberResource, ""))
		return
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.writeError(w, r, errInternal(fmt.Errorf("rewind snapshot spool file: %w", err)))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("X-Weir-Revision", strconv.FormatUint(rev, 10))
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="weir-snapshot-%d.db"`, rev))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		s.log.Warn("send snapshot", "err", err)
	}
}
