/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* common.h: address helpers, the flow hash and counters. */
#ifndef WEIR_COMMON_H
#define WEIR_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lb.h"
#include "maps.h"

#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#endif
#ifndef IPPROTO_UDP
#define IPPROTO_UDP 17
#endif
#define ECONNREFUSED 111
#define NSEC_PER_SEC 1000000000ULL

/* addr_w views a 16-byte address as four 32-bit words. */
#define addr_w(a) ((__u32 *)(a))

static __always_inline void addr_set_v4(__u8 *a, __be32 ip4)
{
	addr_w(a)[0] = 0;
	addr_w(a)[1] = 0;
	addr_w(a)[2] = bpf_htonl(0xffff);
	addr_w(a)[3] = ip4;
}

static __always_inline int addr_is_v4(const __u8 *a)
{
	return addr_w(a)[0] == 0 && addr_w(a)[1] == 0 && addr_w(a)[2] == bpf_htonl(0xffff);
}

static __always_inline void addr_copy(__u8 *dst, const __u8 *src)
{
	addr_w(dst)[0] = addr_w(src)[0];
	addr_w(dst)[1] = addr_w(src)[1];
	addr_w(dst)[2] = addr_w(src)[2];
	addr_w(dst)[3] = addr_w(src)[3];
}

static __always_inline int addr_eq(const __u8 *a, const __u8 *b)
{
	return addr_w(a)[0] == addr_w(b)[0] && addr_w(a)[1] == addr_w(b)[1] &&
	       addr_w(a)[2] == addr_w(b)[2] && addr_w(a)[3] == addr_w(b)[3];
}

/* mix32 is an avalanching 32-bit finalizer (xorshift-multiply). */
static __always_inline __u32 mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

/*
 * flow_hash hashes the 5-tuple as the client sent it. It depends on nothing
 * node-local, so every node maps a flow to the same Maglev slot.
 */
static __always_inline __u32 flow_hash(const __u8 *saddr, const __u8 *daddr,
				       __be16 sport, __be16 dport, __u8 proto)
{
	__u32 h = 0x5eed0001U;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		h = mix32(h ^ addr_w(saddr)[i]);
#pragma unroll
	for (i = 0; i < 4; i++)
		h = mix32(h ^ addr_w(daddr)[i]);
	h = mix32(h ^ (((__u32)sport << 16) | dport));
	return mix32(h ^ proto);
}

static __always_inline struct svc_stats *stats_of(__u32 svc_id)
{
	return bpf_map_lookup_elem(&lb_stats, &svc_id);
}

static __always_inline void count_flow(__u32 svc_id)
{
	struct svc_stats *s = stats_of(svc_id);

	if (s)
		s->flows++;
}

static __always_inline void count_no_backend(__u32 svc_id)
{
	struct svc_stats *s = stats_of(svc_id);

	if (s)
		s->no_backend++;
}

static __always_inline void count_packet(__u32 svc_id, __u32 len)
{
	struct svc_stats *s = stats_of(svc_id);

	if (s) {
		s->packets++;
		s->bytes += len;
	}
}

#endif
