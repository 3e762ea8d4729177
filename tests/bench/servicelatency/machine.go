package servicelatency

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

func describeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	m.Iptables = version("iptables", "--version")
	m.Nft = version("nft", "--version")
	return m
}

func version(argv ...string) string {
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// checkBinaries fails early, saying what to install, when a mode's tool is missing.
func checkBinaries(o Options) error {
	need := []string{"ip"}
	for _, m := range o.Modes {
		switch m {
		case ModeIptables:
			need = append(need, o.Iptables)
		case ModeNftables:
			need = append(need, "nft")
		}
	}
	for _, b := range need {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s not found: install iptables, nftables and iproute2 (make deps)", b)
		}
	}
	return nil
}
