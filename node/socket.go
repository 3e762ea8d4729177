package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// statusSocket is the agent's unix socket: weir-cni's STATUS connects to
// it to learn that the agent is up. Each connection gets "ok\n".
type statusSocket struct {
	ln net.Listener
	wg sync.WaitGroup
}

func listenStatus(path string) (*statusSocket, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("agent socket dir: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale agent socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent socket: %w", err)
	}
	// The file stays after Close: weir-cni STATUS then reports the agent down (51).
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	s := &statusSocket{ln: ln}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *statusSocket) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("ok\n"))
		c.Close()
	}
}

// Close stops listening (the socket file goes away) and waits.
func (s *statusSocket) Close() {
	s.ln.Close()
	s.wg.Wait()
}
