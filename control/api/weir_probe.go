package api

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/weirnet/weir/control/store"
)

// MemberHealth is a member as GET /weir/v1/members?probe=true reports it:
// the serving member GETs every member's /readyz (it can reach its peers
// where a client may not, as in `weir up`'s underlay network).
type MemberHealth struct {
	store.Member
	Ready      bool   `json:"ready"`
	ProbeError string `json:"probeError,omitempty"`
}

// memberProbeClient is an HTTPS client that trusts the cluster CA, which
// signs every member's serving certificate.
func (s *Server) memberProbeClient() *http.Client {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.cfg.ClientCAs != nil {
		tc.RootCAs = s.cfg.ClientCAs()
	}
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, Proxy: nil}}
}

// probeMembers probes each member's /readyz over HTTPS with hc at once,
// two seconds each (a follower's /readyz asks the leader how far it is).
func probeMembers(ctx context.Context, hc *http.Client, ms []store.Member) []MemberHealth {
	out := make([]MemberHealth, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		out[i].Member = m
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].ProbeError = probeReadyz(ctx, hc, m.APIAddr)
			out[i].Ready = out[i].ProbeError == ""
		}()
	}
	wg.Wait()
	return out
}

func probeReadyz(ctx context.Context, hc *http.Client, addr string) string {
	if addr == "" {
		return "no API address recorded"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/readyz", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Sprintf("not answering: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Sprintf("/readyz answers %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return ""
}
