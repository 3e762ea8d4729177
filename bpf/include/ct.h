/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ct.h: conntrack of the per-packet path. Each translated flow has two
 * lb_ct entries: CT_FWD keyed by the tuple as the client sent it, CT_REV
 * keyed by the reply tuple (backend -> client, or backend -> SNAT address).
 * Entries expire (checked on lookup) and are evicted LRU under pressure.
 */
#ifndef WEIR_CT_H
#define WEIR_CT_H

#include "pkt.h"

#define CT_LIFETIME_TCP (21600ULL * NSEC_PER_SEC)
#define CT_LIFETIME_UDP (300ULL * NSEC_PER_SEC)
#define CT_LIFETIME_CLOSING (10ULL * NSEC_PER_SEC)

/* SNAT source ports: above Linux's default ephemeral range (32768-60999). */
#define SNAT_PORT_MIN 61000
#define SNAT_PORT_COUNT 4536
#define SNAT_TRIES 16

static __always_inline int closing(const struct pkt *p)
{
	return p->t.proto == IPPROTO_TCP && (p->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST));
}

static __always_inline __u64 ct_lifetime(const struct pkt *p)
{
	if (p->t.proto != IPPROTO_TCP)
		return CT_LIFETIME_UDP;
	return closing(p) ? CT_LIFETIME_CLOSING : CT_LIFETIME_TCP;
}

static __always_inline struct ct_val *ct_lookup(const struct pkt *p, __u8 dir, __u64 now)
{
	struct ct_key k = p->t;
	struct ct_val *v;

	k.dir = dir;
	k.pad = 0;
	v = bpf_map_lookup_elem(&lb_ct, &k);
	if (!v || v->expires_ns < now)
		return 0;
	return v;
}

/* ct_touch extends the entry's life, at most once a second per entry. */
static __always_inline void ct_touch(struct ct_val *v, const struct pkt *p, __u64 now)
{
	__u64 exp;

	if (closing(p))
		v->flags |= CT_F_CLOSING;
	if (v->flags & CT_F_CLOSING) {
		exp = now + CT_LIFETIME_CLOSING;
		if (exp < v->expires_ns)
			v->expires_ns = exp;
		return;
	}
	exp = now + ct_lifetime(p);
	if (exp > v->expires_ns + NSEC_PER_SEC)
		v->expires_ns = exp;
}

/* ct_claim inserts k unless a live entry holds it (SNAT port allocation). */
static __always_inline int ct_claim(const struct ct_key *k, const struct ct_val *v, __u64 now)
{
	struct ct_val *old;

	if (bpf_map_update_elem(&lb_ct, k, v, BPF_NOEXIST) == 0)
		return 0;
	old = bpf_map_lookup_elem(&lb_ct, k);
	if (old && old->expires_ns >= now)
		return -1;
	return bpf_map_update_elem(&lb_ct, k, v, BPF_ANY) == 0 ? 0 : -1;
}

#endif
