// Package testimage builds weir's test image: Debian's static busybox
// (with links for the usual applets) plus weir-testserver (HTTP with a
// hostname reply and /healthz, TCP and UDP echo), as an OCI archive for
// `weir image import`. `make image` writes bin/weir-testimage.tar; tests
// build it themselves with Build.
//
// # Testing
//
//	go test ./node/runtime/testimage/
package testimage
