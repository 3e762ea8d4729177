package dns

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

const (
	zone          = "cluster.local"
	externalNames = 1000
	queryLines    = 20000
)

func externalName(k int) string { return fmt.Sprintf("host-%d.example.com", k) }

// queryFiles writes the dnsperf input of each scenario into dir and
// returns scenario name -> file.
func queryFiles(dir string, c cluster) (map[string]string, error) {
	r := rand.New(rand.NewPCG(6, 1))
	files := map[string][]string{}
	for range queryLines {
		files[scenarioCluster] = append(files[scenarioCluster], c.names[r.IntN(len(c.names))]+".svc."+zone+" A")
		files[scenarioExternal] = append(files[scenarioExternal], externalName(r.IntN(externalNames))+" A")
		ns := c.namespaces[r.IntN(len(c.namespaces))]
		files[scenarioNXDOMAIN] = append(files[scenarioNXDOMAIN], fmt.Sprintf("nosuch-%d.%s.svc.%s A", r.IntN(1e6), ns, zone))
	}
	for len(files[scenarioSearch]) < queryLines {
		files[scenarioSearch] = append(files[scenarioSearch], searchExpansion(r, c)...)
	}
	out := map[string]string{}
	for name, lines := range files {
		p := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("write query file: %w", err)
		}
		out[name] = p
	}
	return out, nil
}

// searchExpansion returns the queries a pod's resolver (glibc, ndots:5,
// A and AAAA for every candidate) sends for one lookup: a service of the
// pod's namespace by short name, a service of another namespace as
// svc.ns, or an external name, in equal parts.
func searchExpansion(r *rand.Rand, c cluster) []string {
	i := r.IntN(len(c.names))
	svc, ns, _ := strings.Cut(c.names[i], ".")
	search := []string{ns + ".svc." + zone, "svc." + zone, zone}
	var name string
	switch r.IntN(3) {
	case 0:
		name = svc // found with the first search domain
	case 1:
		name = c.names[i]
		search[0] = c.namespaces[r.IntN(len(c.namespaces))] + ".svc." + zone // asked from another namespace
	default:
		name = externalName(r.IntN(externalNames))
	}
	var out []string
	for _, domain := range search {
		fq := name + "." + domain
		out = append(out, fq+" A", fq+" AAAA")
		if fq == c.names[i]+".svc."+zone || (domain == search[0] && name == svc) {
			return out
		}
	}
	return append(out, name+" A", name+" AAAA")
}
