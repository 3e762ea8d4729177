// Package kernels owns weir's kernel matrix: `make test-kernels` boots each
// Debian kernel pinned in kernels.txt under qemu with an initramfs holding
// busybox, the kernel's modules and the kernel-touching test binaries, and
// fails when a test fails or skips there (run.sh, init.sh, docs/kernels.md).
// `make test-kernels-cluster` boots a 5.10 and a 6.1 guest on a bridge in a
// weirk-* netns as a two-node weir cluster with containerd pods and checks
// ClusterIP, NodePort and DNS across them (cluster.sh, cluster-guest.sh,
// cluster.yaml, docs/vagrant.md).
//
// Its Go test checks what that matrix and the Vagrant boxes rely on: every
// binary `make build` writes to $WEIR_BIN is static (no ELF interpreter, no
// DT_NEEDED libraries), so it starts on Debian 11's older glibc as well.
// Under CI an unset WEIR_BIN fails the test; elsewhere it skips.
package kernels
