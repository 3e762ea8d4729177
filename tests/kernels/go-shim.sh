#!/bin/sh
# The guest has no Go toolchain. Tests that build cmd/weir-cni with
# `go build -o OUT github.com/weirnet/weir/cmd/weir-cni` get the static
# binary that run.sh built on the host (CGO_ENABLED=0, same tree); anything
# else fails loudly.
case "$1" in
build)
	shift; out=""; pkg=""
	while [ $# -gt 0 ]; do
		case "$1" in -o) out=$2; shift ;; -*) ;; *) pkg=$1 ;; esac
		shift
	done
	name=${pkg##*/}
	[ -x "/opt/weir/bin/$name" ] || { echo "guest go: no prebuilt binary for $pkg" >&2; exit 1; }
	[ -d "$out" ] && out="$out/$name"
	exec cp "/opt/weir/bin/$name" "$out" ;;
env)
	[ "$2" = GOPATH ] && { echo /opt/weir/gopath; exit 0; } ;;
esac
echo "guest go: unsupported: go $*" >&2
exit 1
