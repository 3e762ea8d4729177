/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * select.h: backend selection shared by the socket and the per-packet path.
 *
 * Order: a still-valid session-affinity entry, else the Maglev table (per
 * packet path, when the service has one), else slot 1 + hash % n over the
 * ready backends, or over the terminating ones when none is ready.
 */
#ifndef WEIR_SELECT_H
#define WEIR_SELECT_H

#include "common.h"

static __always_inline struct backend *backend_by_id(__u32 id)
{
	return bpf_map_lookup_elem(&lb_backends, &id);
}

/* active_count is the number of slots new connections may use. */
static __always_inline __u32 active_count(const struct svc_val *svc)
{
	return svc->count ? svc->count : svc->term_count;
}

static __always_inline struct backend *slot_pick(const struct svc_key *fk, __u32 slot, __u32 *id)
{
	struct svc_key k = *fk;
	struct svc_val *v;

	k.slot = (__u16)slot;
	v = bpf_map_lookup_elem(&lb_services, &k);
	if (!v)
		return 0;
	*id = v->backend_id;
	return backend_by_id(*id);
}

static __always_inline struct backend *maglev_pick(__u32 svc_id, __u32 hash, __u32 *id)
{
	__u32 zero = 0, idx;
	__u32 *tbl;
	void *inner;

	inner = bpf_map_lookup_elem(&lb_maglev, &svc_id);
	if (!inner)
		return 0;
	tbl = bpf_map_lookup_elem(inner, &zero);
	if (!tbl)
		return 0;
	idx = hash % maglev_size;
	if (idx >= maglev_size) /* bounds the index for the verifier */
		return 0;
	*id = tbl[idx];
	return backend_by_id(*id);
}

static __always_inline struct backend *affinity_get(const struct svc_val *svc,
						    const struct aff_key *ak, __u64 now, __u32 *id)
{
	struct aff_val *av = bpf_map_lookup_elem(&lb_affinity, ak);
	struct backend *be;

	if (!av)
		return 0;
	if (now - av->last_used_ns > (__u64)svc->affinity_timeout * NSEC_PER_SEC)
		return 0;
	be = backend_by_id(av->backend_id);
	if (!be || be->svc_id != svc->svc_id)
		return 0;
	if ((be->flags & BACKEND_F_TERMINATING) && svc->count)
		return 0;
	*id = av->backend_id;
	return be;
}

static __always_inline void affinity_put(const struct aff_key *ak, __u32 id, __u64 now)
{
	struct aff_val v = {};

	v.last_used_ns = now;
	v.backend_id = id;
	bpf_map_update_elem(&lb_affinity, ak, &v, BPF_ANY);
}

/*
 * select_backend picks the backend for a new connection to the frontend fk
 * (a master key) with master entry svc. ak, when the service has affinity,
 * names the client (its svc_id is filled in here). Returns 0 when the
 * service has no usable backend.
 */
static __always_inline struct backend *select_backend(const struct svc_key *fk,
						      const struct svc_val *svc, __u32 hash,
						      int maglev, struct aff_key *ak, __u32 *id)
{
	__u32 n = active_count(svc);
	struct backend *be = 0;
	__u64 now = 0;

	if (n == 0)
		return 0;
	if (svc->affinity_timeout) {
		now = bpf_ktime_get_ns();
		ak->svc_id = svc->svc_id;
		be = affinity_get(svc, ak, now, id);
	}
	if (!be && maglev)
		be = maglev_pick(svc->svc_id, hash, id);
	if (!be)
		be = slot_pick(fk, 1 + hash % n, id);
	if (be && svc->affinity_timeout)
		affinity_put(ak, *id, now);
	return be;
}

#endif
