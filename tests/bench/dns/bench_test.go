package dns

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/weirnet/weir/tests/testutil"
)

// TestQueryFilesGetTheirRcodes checks that every scenario's queries get
// the answers the scenario claims: names that exist resolve, the search
// expansion's candidates fail until the right one, NXDOMAIN is NXDOMAIN.
func TestQueryFilesGetTheirRcodes(t *testing.T) {
	c := generate(200, 1000)
	if len(c.services) != 200 || len(c.pods) != 1000 || len(c.namespaces) != 2 {
		t.Fatalf("generated %d services, %d pods, %d namespaces", len(c.services), len(c.pods), len(c.namespaces))
	}
	up, err := startUpstream()
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	res := &Result{}
	s, err := load(res, c, up.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if res.Records < 3000 || res.BytesPerRecord <= 0 {
		t.Fatalf("records %d, bytes per record %.0f", res.Records, res.BytesPerRecord)
	}
	addr, err := serve(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	files, err := queryFiles(t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		scenarioCluster:  {mdns.RcodeSuccess},
		scenarioExternal: {mdns.RcodeSuccess},
		scenarioNXDOMAIN: {mdns.RcodeNameError},
		scenarioSearch:   {mdns.RcodeSuccess, mdns.RcodeNameError},
	}
	cl := &mdns.Client{Timeout: 5 * time.Second}
	for name, rcodes := range want {
		data, err := os.ReadFile(files[name])
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		for _, line := range lines[:200] {
			qname, qtype, _ := strings.Cut(line, " ")
			m := new(mdns.Msg)
			m.SetQuestion(qname+".", mdns.StringToType[qtype])
			r, _, err := cl.Exchange(m, addr)
			if err != nil {
				t.Fatal(err)
			}
			if !containsInt(rcodes, r.Rcode) || (r.Rcode == 0 && qtype == "A" && len(r.Answer) == 0) {
				t.Fatalf("%s %q: %s", name, line, r)
			}
		}
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestDnsperfRunAndParse(t *testing.T) {
	bin := testutil.RequireBinary(t, "dnsperf", exec.LookPath)
	e, err := startEcho()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	file := filepath.Join(t.TempDir(), "q.txt")
	if err := os.WriteFile(file, []byte("a.example. A\nb.example. AAAA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := perfConfig{bin: bin, clients: 1, outstanding: 10, duration: time.Second}
	r, err := p.run(context.Background(), e.addr(), file, 2000, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.QPS < 100 || r.Sent < 100 || r.P50 <= 0 || r.P99 < r.P50 || !strings.Contains(r.Rcodes, "NOERROR") {
		t.Fatalf("parsed %+v", r)
	}
}

func TestMarkdown(t *testing.T) {
	r := &Result{Command: "weir-bench dns", Records: 10, Scenarios: []Scenario{{Name: "cluster", Description: "d"}}}
	md := Markdown(r)
	if !strings.Contains(md, "`weir-bench dns`") || !strings.Contains(md, "| d |") {
		t.Fatalf("markdown:\n%s", md)
	}
	dir := t.TempDir()
	if err := Write(r, filepath.Join(dir, "b.md"), filepath.Join(dir, "bench")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bench", "dns.json")); err != nil {
		t.Fatal(err)
	}
}
