package member

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirnet/weir/control/nodestream"
)

// nodeStream is the member's node-stream server: its listener is bound at
// start (address errors surface at once); it serves once the cluster CA
// can be read or created, which needs a leader.
type nodeStream struct {
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	srv    *nodestream.Server
}

// NodeStreamAddr is the address the node stream listens on ("" when off).
func (m *Member) NodeStreamAddr() string {
	if m.nodes == nil {
		return ""
	}
	return m.nodes.ln.Addr().String()
}

func (m *Member) startNodeStream(token string, reg prometheus.Registerer) error {
	if m.cfg.NodeListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.cfg.NodeListen)
	if err != nil {
		return fmt.Errorf("listen on node-stream address %s: %w", m.cfg.NodeListen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ns := &nodeStream{ln: ln, cancel: cancel}
	m.nodes = ns
	ns.wg.Add(1)
	go func() {
		defer ns.wg.Done()
		if err := ns.run(ctx, m, token, reg); err != nil && ctx.Err() == nil {
			m.log.Error("node stream stopped", "error", err)
		}
	}()
	return nil
}

func (ns *nodeStream) run(ctx context.Context, m *Member, token string, reg prometheus.Registerer) error {
	var ca *nodestream.CA
	for {
		var err error
		if ca, err = nodestream.EnsureCA(ctx, m.Store); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err := writeFile(filepath.Join(m.cfg.DataDir, "ca.crt"), ca.CertPEM); err != nil {
		return fmt.Errorf("write ca.crt: %w", err)
	}
	tc, err := ca.ServerTLS(certHosts(ns.ln.Addr())...)
	if err != nil {
		return err
	}
	srv, err := nodestream.New(nodestream.Config{Store: m.Store, Token: token, TLS: tc, CA: ca, ClusterCIDR: m.cfg.ClusterCIDR,
		Logger: m.log, Registerer: reg})
	if err != nil {
		return err
	}
	ns.mu.Lock()
	if ctx.Err() != nil {
		ns.mu.Unlock()
		return nil
	}
	ns.srv = srv
	ns.mu.Unlock()
	m.log.Info("node stream serving", "addr", ns.ln.Addr().String())
	return srv.Serve(ns.ln)
}

// nodeCA is the cluster CA certificate the API trusts when it calls node
// APIs (pods/log, pods/exec).
func (m *Member) nodeCA(ctx context.Context) ([]byte, error) {
	ca, err := nodestream.EnsureCA(ctx, m.Store)
	if err != nil {
		return nil, err
	}
	return ca.CertPEM, nil
}

// close stops serving and waits. Idempotent.
func (ns *nodeStream) close() {
	ns.cancel()
	ns.mu.Lock()
	srv := ns.srv
	ns.mu.Unlock()
	if srv != nil {
		srv.Close()
	} else {
		ns.ln.Close()
	}
	ns.wg.Wait()
}

// certHosts are the names the server certificate covers: the bound IP, or
// every local address when bound to the unspecified address.
func certHosts(addr net.Addr) []string {
	hosts := []string{"localhost", "127.0.0.1"}
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return hosts
	}
	if !ta.IP.IsUnspecified() {
		return append(hosts, ta.IP.String())
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	hn, _ := os.Hostname()
	return append(hosts, hn)
}

func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
