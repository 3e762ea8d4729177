package cni

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/weirnet/weir/cni/ipam"
)

// Status reports whether weir-cni can serve ADD:
//   - 51 when the node agent's socket exists but does not answer: a weir
//     agent manages this node and is down, so existing pods may lose
//     connectivity. No socket at all means standalone use: not an error.
//   - 50 when the IPAM store cannot be opened or used, or has no free
//     address left.
//   - 11 when another process holds the store's lock past lockTimeout.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	conf, err := ParseConfig(args.StdinData)
	if err != nil {
		return err
	}
	if err := probeAgent(conf.AgentSocket); err != nil {
		return newError(types.ErrLimitedConnectivity, "%v: existing pods may have limited connectivity until it is back; restart `weir agent`, or set field \"agentSocket\" to a path that does not exist for standalone use", err)
	}
	var free uint32
	if err := withStore(conf, func(s *ipam.Store) error { free, err = s.Free(conf.Range); return err }); err != nil {
		return err
	}
	if free == 0 {
		return ipamError(conf, fmt.Errorf("%w %s: all %d pod addresses are allocated: delete unused pods or run CNI GC", ipam.ErrExhausted, conf.Range, conf.Range.Size()))
	}
	return nil
}

// probeAgent connects to the agent's unix socket when it exists.
func probeAgent(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return fmt.Errorf("weir agent socket %s (field \"agentSocket\") does not answer: %w", path, err)
	}
	return c.Close()
}
