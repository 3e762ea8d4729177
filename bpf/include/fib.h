/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * fib.h: forwarding a translated packet ourselves. A packet whose source
 * became a node address would be dropped as martian by the stack's input
 * path, so translated packets are routed with bpf_fib_lookup and sent with
 * bpf_redirect (neighbour known) or bpf_redirect_neigh (5.10+).
 */
#ifndef WEIR_FIB_H
#define WEIR_FIB_H

#include "pkt.h"

static __always_inline int fib_do(struct __sk_buff *skb, const struct pkt *p,
				  struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = skb->ingress_ifindex;
	fib->l4_protocol = p->t.proto;
	fib->sport = p->t.sport;
	fib->dport = p->t.dport;
	if (!p->v6) {
		fib->family = AF_INET;
		fib->ipv4_src = addr_w(p->t.saddr)[3];
		fib->ipv4_dst = addr_w(p->t.daddr)[3];
	} else {
		fib->family = AF_INET6;
		addr_copy((__u8 *)fib->ipv6_src, p->t.saddr);
		addr_copy((__u8 *)fib->ipv6_dst, p->t.daddr);
	}
	return bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
}

static __always_inline int fib_routed(int rc)
{
	return rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH;
}

/* fib_redirect sends the packet where fib says; TC_ACT_OK leaves it to the stack. */
static __always_inline int fib_redirect(struct __sk_buff *skb, const struct pkt *p,
					const struct bpf_fib_lookup *fib, int rc)
{
	if (!fib_routed(rc) || dec_ttl(skb, p) < 0)
		return TC_ACT_OK;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return bpf_redirect_neigh(fib->ifindex, 0, 0, 0);
	if (bpf_skb_store_bytes(skb, 0, fib->dmac, ETH_ALEN, 0) < 0 ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, fib->smac, ETH_ALEN, 0) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(fib->ifindex, 0);
}

#endif
