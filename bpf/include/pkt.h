/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pkt.h: parsing and rewriting Ethernet/IPv4/IPv6 + TCP/UDP for the
 * per-packet path. Headers are read with bpf_skb_load_bytes and written
 * with bpf_skb_store_bytes plus the checksum helpers, so no direct packet
 * access has to satisfy the verifier. IPv4 fragments and IPv6 extension
 * headers are not translated (passed on untouched).
 */
#ifndef WEIR_PKT_H
#define WEIR_PKT_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include "common.h"

#define AF_INET 2
#define AF_INET6 10
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_RST 0x04

struct pkt {
	struct ct_key t; /* 5-tuple as currently in the packet; dir unset */
	__u32 l3_off;
	__u32 l4_off;
	__u32 len;
	__u8 v6;
	__u8 tcp_flags;
	__u16 pad;
};

static __always_inline int parse_v4(struct __sk_buff *skb, struct pkt *p)
{
	struct iphdr ip;

	if (bpf_skb_load_bytes(skb, p->l3_off, &ip, sizeof(ip)) < 0)
		return -1;
	if (ip.ihl < 5 || (ip.frag_off & bpf_htons(0x3fff)))
		return -1;
	addr_set_v4(p->t.saddr, ip.saddr);
	addr_set_v4(p->t.daddr, ip.daddr);
	p->t.proto = ip.protocol;
	p->l4_off = p->l3_off + ip.ihl * 4;
	return 0;
}

static __always_inline int parse_v6(struct __sk_buff *skb, struct pkt *p)
{
	struct ipv6hdr ip6;

	if (bpf_skb_load_bytes(skb, p->l3_off, &ip6, sizeof(ip6)) < 0)
		return -1;
	__builtin_memcpy(p->t.saddr, &ip6.saddr, 16);
	__builtin_memcpy(p->t.daddr, &ip6.daddr, 16);
	p->t.proto = ip6.nexthdr;
	p->l4_off = p->l3_off + sizeof(ip6);
	p->v6 = 1;
	return 0;
}

/* parse fills p for TCP and UDP over IPv4/IPv6 on Ethernet; -1 otherwise. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
	__be16 ports[2];
	int err;

	p->l3_off = sizeof(struct ethhdr);
	p->len = skb->len;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		err = parse_v4(skb, p);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		err = parse_v6(skb, p);
	else
		return -1;
	if (err || (p->t.proto != IPPROTO_TCP && p->t.proto != IPPROTO_UDP))
		return -1;
	if (bpf_skb_load_bytes(skb, p->l4_off, ports, sizeof(ports)) < 0)
		return -1;
	p->t.sport = ports[0];
	p->t.dport = ports[1];
	if (p->t.proto == IPPROTO_TCP &&
	    bpf_skb_load_bytes(skb, p->l4_off + 13, &p->tcp_flags, 1) < 0)
		return -1;
	return 0;
}

static __always_inline __u32 l4_csum_off(const struct pkt *p)
{
	return p->l4_off + (p->t.proto == IPPROTO_TCP ? 16 : 6);
}

/* l4_flags: IPv4 UDP may carry checksum 0 (none), which must stay 0. */
static __always_inline __u64 l4_flags(const struct pkt *p)
{
	return (!p->v6 && p->t.proto == IPPROTO_UDP) ? BPF_F_MARK_MANGLED_0 : 0;
}

/* set_addr rewrites the source (dst == 0) or destination address. */
static __always_inline int set_addr(struct __sk_buff *skb, struct pkt *p, int dst, const __u8 *to)
{
	__u8 *cur = dst ? p->t.daddr : p->t.saddr;

	if (!p->v6) {
		__be32 from4 = addr_w(cur)[3], to4 = addr_w(to)[3];
		__u32 off = p->l3_off + (dst ? 16 : 12);

		if (bpf_l4_csum_replace(skb, l4_csum_off(p), from4, to4,
					BPF_F_PSEUDO_HDR | sizeof(to4) | l4_flags(p)) < 0)
			return -1;
		if (bpf_l3_csum_replace(skb, p->l3_off + 10, from4, to4, sizeof(to4)) < 0)
			return -1;
		if (bpf_skb_store_bytes(skb, off, &to4, sizeof(to4), 0) < 0)
			return -1;
	} else {
		__u32 from[4], nw[4];
		__s64 diff;

		addr_copy((__u8 *)from, cur);
		addr_copy((__u8 *)nw, to);
		diff = bpf_csum_diff(from, sizeof(from), nw, sizeof(nw), 0);
		if (bpf_l4_csum_replace(skb, l4_csum_off(p), 0, diff, BPF_F_PSEUDO_HDR) < 0)
			return -1;
		if (bpf_skb_store_bytes(skb, p->l3_off + (dst ? 24 : 8), nw, sizeof(nw), 0) < 0)
			return -1;
	}
	addr_copy(cur, to);
	return 0;
}

/* set_port rewrites the source (dst == 0) or destination port. */
static __always_inline int set_port(struct __sk_buff *skb, struct pkt *p, int dst, __be16 to)
{
	__be16 from = dst ? p->t.dport : p->t.sport;

	if (from == to)
		return 0;
	if (bpf_l4_csum_replace(skb, l4_csum_off(p), from, to, sizeof(to) | l4_flags(p)) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, p->l4_off + (dst ? 2 : 0), &to, sizeof(to), 0) < 0)
		return -1;
	if (dst)
		p->t.dport = to;
	else
		p->t.sport = to;
	return 0;
}

/* set_endpoint rewrites address and port on one side of the packet. */
static __always_inline int set_endpoint(struct __sk_buff *skb, struct pkt *p, int dst,
					const __u8 *addr, __be16 port)
{
	if (!addr_eq(dst ? p->t.daddr : p->t.saddr, addr) && set_addr(skb, p, dst, addr) < 0)
		return -1;
	return set_port(skb, p, dst, port);
}

/* dec_ttl lowers TTL / hop limit before a redirect; -1 when it would expire. */
static __always_inline int dec_ttl(struct __sk_buff *skb, const struct pkt *p)
{
	__u8 ttl;

	if (!p->v6) {
		__be16 old, nw;

		if (bpf_skb_load_bytes(skb, p->l3_off + 8, &old, 2) < 0)
			return -1;
		ttl = *(__u8 *)&old;
		if (ttl <= 1)
			return -1;
		nw = old;
		*(__u8 *)&nw = ttl - 1;
		if (bpf_l3_csum_replace(skb, p->l3_off + 10, old, nw, 2) < 0)
			return -1;
		return bpf_skb_store_bytes(skb, p->l3_off + 8, &nw, 2, 0);
	}
	if (bpf_skb_load_bytes(skb, p->l3_off + 7, &ttl, 1) < 0 || ttl <= 1)
		return -1;
	ttl--;
	return bpf_skb_store_bytes(skb, p->l3_off + 7, &ttl, 1, 0);
}

#endif
