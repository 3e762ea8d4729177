package push

import (
	"errors"
	"io"
	"time"
)

// Config configures a run. Zero values get the defaults in withDefaults.
type Config struct {
	WeirBin     string // the weir binary for the members (required)
	WeirVersion string
	Agents      int           // connected agents (default 100)
	Singles     int           // single changes measured (default 200)
	Bursts      int           // bursts measured (default 3)
	BurstSize   int           // changes per burst (default 1000)
	Writers     int           // concurrent API writers in a burst (default 16)
	Heartbeat   time.Duration // agents' heartbeat interval (default 2s)
	Idle        time.Duration // idle window for the heartbeat-only CPU figure (default 5s)
	Dir         string        // parent of the members' temp dirs (default $TMPDIR)
	Out         string        // markdown file whose push section is replaced ("" = none)
	JSONDir     string        // directory for push.json ("" = none)
	Command     string        // the command line, for the report
	Log         io.Writer     // progress (nil = none)

	// Members is the number of `weir server` processes (default 3);
	// ServerArgs are added to each one's command line. Cluster (for
	// weir-bench scale-agents) sets them; Run keeps the defaults.
	Members    int
	ServerArgs []string
}

func (c Config) withDefaults() (Config, error) {
	if c.WeirBin == "" {
		return c, errors.New("push: the weir binary is required (it runs the members)")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Agents, 100)
	def(&c.Singles, 200)
	def(&c.Bursts, 3)
	def(&c.BurstSize, 1000)
	def(&c.Writers, 16)
	def(&c.Members, 3)
	if c.Agents > 250 && len(c.ServerArgs) == 0 {
		return c, errors.New("push: at most 250 agents: the default cluster CIDR has 256 /24 pod CIDRs")
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 2 * time.Second
	}
	if c.Idle <= 0 {
		c.Idle = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c, nil
}
