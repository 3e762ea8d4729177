// Package cni is weir-cni, weir's CNI plugin (spec 1.0.0 and 1.1.0, on
// the cni library's skel): ADD, DEL, CHECK, VERSION, STATUS and GC for one
// node's pod network, with addresses from cni/ipam.
//
// What it owns: per attachment (container ID, interface) a veth pair whose
// host side is named HostVethName(containerID, ifname), the pod's /32
// address and routes, the host's /32 route to the pod, the gateway /32 on
// the host veth, and the attachment of the dataplane's pinned per-packet
// program to the host veth's ingress. docs/cni.md has the configuration,
// the routing model and the error codes.
//
// What it promises:
//   - Spec-exact results and errors: stdout carries only the result or a
//     CNI error JSON; codes 1, 2, 4, 6, 7, 11, 50, 51 as the spec defines
//     them, messages naming the field or variable at fault.
//   - ADD records the allocation durably before touching links, and DEL
//     removes links before releasing it, so a host veth never exists
//     without its allocation and GC (which releases allocations and removes
//     their links) reclaims everything a killed plugin left.
//   - DEL never needs the container's netns and succeeds when anything is
//     already gone.
//
// Tests: `go test ./cni/...` as root. They build cmd/weir-cni, run it
// inside network namespaces they create (nsenter into a "host" netns, never
// the machine's own), drive it with env + stdin and with cnitool (`make
// deps` installs it), chain Debian's portmap, run 64 concurrent ADDs and
// kill -9 ADDs at random moments (-cni.kills N). FuzzConfig fuzzes the
// stdin parser.
package cni
