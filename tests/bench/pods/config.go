package pods

import (
	"errors"
	"io"
)

// Config configures a run. Zero values get the defaults in withDefaults.
type Config struct {
	Bin         string  // directory holding weir and weir-cni (required)
	WeirVersion string  // for the report
	Pods        int     // pods created (default 100)
	Rate        float64 // pods created per second (default 10; negative: all at once)
	Nodes       int     // nodes (default 2)
	// NoVolumes creates only bare pods. Otherwise every other pod mounts a
	// configMap, a secret, an emptyDir and a projected service account
	// token, and the report compares the two halves of the same run.
	NoVolumes bool
	Dir       string // parent of the cluster's data dir (default $TMPDIR)
	Out       string // markdown file whose pods section is replaced ("" = none)
	JSONDir   string // directory for pods.json ("" = none)
	Command   string // the command line, for the report
	Log       io.Writer
}

func (c Config) withDefaults() (Config, error) {
	if c.Bin == "" {
		return c, errors.New("pods: the directory of the weir binaries is required")
	}
	if c.Pods <= 0 {
		c.Pods = 100
	}
	if c.Pods > 200 {
		return c, errors.New("pods: at most 200 pods (each node holds at most 110)")
	}
	if c.Rate == 0 {
		c.Rate = 10
	}
	if c.Nodes <= 0 {
		c.Nodes = 2
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c, nil
}
