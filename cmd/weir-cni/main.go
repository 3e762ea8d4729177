// Command weir-cni is weir's CNI plugin. Container runtimes (containerd,
// CRI-O, cnitool) execute it from their CNI bin dir with CNI_* variables and
// the network configuration on stdin; see docs/cni.md.
package main

import "github.com/weirnet/weir/cni"

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = "dev"

func main() { cni.Main(Version) }
