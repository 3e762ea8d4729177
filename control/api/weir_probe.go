package api

import (
	"context"
	"fmt"
	"net/http"
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

// probeMembers probes each member's /readyz at once, one second each.
func probeMembers(ctx context.Context, ms []store.Member) []MemberHealth {
	out := make([]MemberHealth, len(ms))
	hc := &http.Client{Timeout: time.Second}
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Sprintf("not answering: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("/readyz answers %d", resp.StatusCode)
	}
	return ""
}
