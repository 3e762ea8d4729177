/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * tc.h: the per-packet path on tc clsact, for traffic whose sockets the
 * cgroup hooks do not see (NodePort and ExternalIPs from outside, pods
 * outside the hooked cgroup).
 *
 * ingress: a reply of a translated flow is reverse-translated; a packet of
 *          a known flow follows its conntrack entry; a new packet to a
 *          frontend gets a backend (affinity, Maglev, slot hash), DNAT, and
 *          SNAT to a node address when the backend is reached back through
 *          the interface the packet came in on (a remote backend).
 * egress:  replies of local backends leaving the node are reverse-translated.
 */
#ifndef WEIR_TC_H
#define WEIR_TC_H

#include "ct.h"
#include "fib.h"
#include "select.h"

/* Node addresses used as SNAT source for non-NodePort frontends (loader sets them). */
volatile const __u32 snat_ip4 = 0;
volatile const __u32 snat_ip6[4] = {};

/* snat_source picks the address a remote backend must answer to; 0 if none. */
static __always_inline int snat_source(const struct pkt *p, const struct svc_val *svc,
				       const struct svc_key *fk, __u8 *out)
{
	if (svc->flags & SVC_F_NODEPORT) {
		addr_copy(out, fk->addr);
		return 1;
	}
	if (!p->v6) {
		if (!snat_ip4)
			return 0;
		addr_set_v4(out, snat_ip4);
		return 1;
	}
	addr_w(out)[0] = snat_ip6[0];
	addr_w(out)[1] = snat_ip6[1];
	addr_w(out)[2] = snat_ip6[2];
	addr_w(out)[3] = snat_ip6[3];
	return (addr_w(out)[0] | addr_w(out)[1] | addr_w(out)[2] | addr_w(out)[3]) != 0;
}

/* snat_claim reserves a source port on snat_addr for the reply entry rk. */
static __always_inline int snat_claim(struct ct_key *rk, const struct ct_val *rv, __u64 now)
{
	int i;

	for (i = 0; i < SNAT_TRIES; i++) {
		rk->dport = bpf_htons(SNAT_PORT_MIN + bpf_get_prandom_u32() % SNAT_PORT_COUNT);
		if (ct_claim(rk, rv, now) == 0)
			return 0;
	}
	return -1;
}

static __always_inline int ct_reply(struct __sk_buff *skb, struct pkt *p, struct ct_val *v,
				    __u64 now, int redirect)
{
	struct bpf_fib_lookup fib;
	struct rev_nat *rn;
	int rc;

	rn = bpf_map_lookup_elem(&lb_revnat, &v->rev_nat_id);
	if (!rn)
		return TC_ACT_UNSPEC; /* frontend removed: leave the packet alone */
	ct_touch(v, p, now);
	count_packet(v->svc_id, p->len);
	if ((v->flags & CT_F_SNAT) && set_endpoint(skb, p, 1, v->addr, v->port) < 0)
		return TC_ACT_SHOT;
	if (set_endpoint(skb, p, 0, rn->addr, rn->port) < 0)
		return TC_ACT_SHOT;
	if (!redirect)
		return TC_ACT_OK;
	rc = fib_do(skb, p, &fib);
	return fib_redirect(skb, p, &fib, rc);
}

static __always_inline int ct_forward(struct __sk_buff *skb, struct pkt *p, struct ct_val *v,
				      __u64 now)
{
	struct bpf_fib_lookup fib;
	int rc;

	ct_touch(v, p, now);
	count_packet(v->svc_id, p->len);
	if (set_endpoint(skb, p, 1, v->addr, v->port) < 0)
		return TC_ACT_SHOT;
	if ((v->flags & CT_F_SNAT) && set_endpoint(skb, p, 0, v->snat_addr, v->snat_port) < 0)
		return TC_ACT_SHOT;
	rc = fib_do(skb, p, &fib);
	return fib_redirect(skb, p, &fib, rc);
}

/* lb_new translates the first packet of a flow to a frontend. */
static __always_inline int lb_new(struct __sk_buff *skb, struct pkt *p, __u64 now)
{
	struct bpf_fib_lookup fib;
	struct ct_key fk_ct, rk;
	struct svc_key fk = {};
	struct aff_key ak = {};
	struct ct_val v = {};
	struct backend *be;
	struct svc_val *svc;
	__u32 id = 0;
	int rc, snat;

	addr_copy(fk.addr, p->t.daddr);
	fk.port = p->t.dport;
	fk.proto = p->t.proto;
	svc = bpf_map_lookup_elem(&lb_services, &fk);
	if (!svc)
		return TC_ACT_UNSPEC;

	addr_copy(ak.client, p->t.saddr);
	ak.kind = AFF_CLIENT_IP;
	be = select_backend(&fk, svc,
			    flow_hash(p->t.saddr, p->t.daddr, p->t.sport, p->t.dport, p->t.proto),
			    1, &ak, &id);
	if (!be) {
		count_no_backend(svc->svc_id);
		return TC_ACT_SHOT;
	}
	fk_ct = p->t;
	fk_ct.dir = CT_FWD;
	fk_ct.pad = 0;
	v.backend_id = id;
	v.rev_nat_id = svc->rev_nat_id;
	v.svc_id = svc->svc_id;
	v.expires_ns = now + ct_lifetime(p);

	if (set_endpoint(skb, p, 1, be->addr, be->port) < 0)
		return TC_ACT_SHOT;
	rc = fib_do(skb, p, &fib);
	snat = fib_routed(rc) && fib.ifindex == skb->ingress_ifindex;

	/* The reply entry: backend -> client, or backend -> SNAT address. */
	rk = p->t;
	rk.dir = CT_REV;
	rk.pad = 0;
	addr_copy(rk.saddr, p->t.daddr);
	rk.sport = p->t.dport;
	addr_copy(rk.daddr, p->t.saddr);
	rk.dport = p->t.sport;
	if (snat && snat_source(p, svc, &fk, rk.daddr)) {
		v.flags = CT_F_SNAT;
		addr_copy(v.addr, p->t.saddr); /* reply goes back to the client */
		v.port = p->t.sport;
		if (snat_claim(&rk, &v, now) < 0)
			return TC_ACT_SHOT;
		addr_copy(v.snat_addr, rk.daddr);
		v.snat_port = rk.dport;
		if (set_endpoint(skb, p, 0, rk.daddr, rk.dport) < 0)
			return TC_ACT_SHOT;
	} else {
		bpf_map_update_elem(&lb_ct, &rk, &v, BPF_ANY);
	}
	addr_copy(v.addr, be->addr);
	v.port = be->port;
	bpf_map_update_elem(&lb_ct, &fk_ct, &v, BPF_ANY);
	count_flow(v.svc_id);
	count_packet(v.svc_id, p->len);
	return fib_redirect(skb, p, &fib, rc);
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct ct_val *v;
	__u64 now;

	if (parse(skb, &p) < 0)
		return TC_ACT_UNSPEC;
	now = bpf_ktime_get_ns();
	v = ct_lookup(&p, CT_REV, now);
	if (v)
		return ct_reply(skb, &p, v, now, 1);
	v = ct_lookup(&p, CT_FWD, now);
	if (v && backend_by_id(v->backend_id))
		return ct_forward(skb, &p, v, now);
	return lb_new(skb, &p, now);
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct ct_val *v;
	__u64 now;

	if (parse(skb, &p) < 0)
		return TC_ACT_UNSPEC;
	now = bpf_ktime_get_ns();
	v = ct_lookup(&p, CT_REV, now);
	if (v)
		return ct_reply(skb, &p, v, now, 0);
	return TC_ACT_UNSPEC;
}

#endif
