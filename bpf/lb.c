/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lb.c: weir's service load balancer, one object with all programs so they
 * share one set of maps. Built by bpf2go (see dataplane/gen.go); the
 * programs live in include/sock.h (cgroup sock_addr hooks) and include/tc.h
 * (tc clsact). Kernel baseline: 5.10.
 */
#include "sock.h"
#include "tc.h"

char __license[] SEC("license") = "Dual BSD/GPL";
