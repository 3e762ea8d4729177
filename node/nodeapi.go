package node

import (
	"fmt"
	"net"
	"strconv"

	"github.com/weirnet/weir/control/nodestream"
	"github.com/weirnet/weir/node/nodeapi"
	"github.com/weirnet/weir/node/runtime"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

var _ nodeapi.Runtime = (*runtime.Runtime)(nil)

// openNodeAPI listens for the control plane's logs and exec calls on the
// node's first address (in the node's network namespace) when the agent
// runs pods and Config.NodeAPIPort is set. It serves TLS once Register
// returned the serving certificate.
func (a *Agent) openNodeAPI() error {
	rt, ok := a.pods.(nodeapi.Runtime)
	if a.cfg.NodeAPIPort == 0 || !ok || len(a.cfg.Addresses) == 0 {
		return nil
	}
	srv, err := nodeapi.New(nodeapi.Config{ClientCAs: a.id.roots, AllowedUsers: []string{nodestream.KubeletClientUser}, Runtime: rt, Logger: a.log})
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(a.cfg.Addresses[0], strconv.Itoa(a.cfg.NodeAPIPort))
	var ln net.Listener
	if err := inNetns(a.cfg.Netns, func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		return fmt.Errorf("node API: listen on %s (--node-api-port; 0 turns it off): %w", addr, err)
	}
	srv.Start(ln)
	a.nodeAPI = srv
	a.closers = append(a.closers, srv.Close)
	a.log.Info("node API listening", "addr", ln.Addr().String())
	return nil
}

// nodeAPIPort is the port sent at registration (0: no node API).
func (a *Agent) nodeAPIPort() int32 {
	if a.nodeAPI == nil {
		return 0
	}
	return int32(a.cfg.NodeAPIPort)
}

// setServingCert installs the certificate Register returned.
func (a *Agent) setServingCert(resp *pb.RegisterResponse) {
	if a.nodeAPI == nil {
		return
	}
	if len(resp.ServingCertPem) == 0 {
		a.log.Warn("the control plane issued no node API certificate (an older server?): weir logs and exec will not reach this node")
		return
	}
	if err := a.nodeAPI.SetCertificate(resp.ServingCertPem, resp.ServingKeyPem); err != nil {
		a.log.Error("node API certificate", "error", err)
	}
}
