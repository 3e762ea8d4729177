package dataplane

// The BPF object and its Go bindings are generated from ../bpf and
// committed; `go generate ./dataplane/...` reproduces them byte for byte
// with the clang of `make deps`. The multiarch include directory provides
// <asm/types.h> for the uapi headers (clang -target bpf does not search it).
//
//go:generate sh -c "go tool bpf2go -tags linux -target bpfel -type svc_key -type svc_val -type backend -type rev_nat -type sk_rev_key -type sk_rev_val -type aff_key -type aff_val -type ct_key -type ct_val -type svc_stats -type svc_name lb ../bpf/lb.c -- -O2 -mcpu=v3 -Wall -Werror -I../bpf/include -idirafter /usr/include/$(clang -print-multiarch)"
