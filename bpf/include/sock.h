/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sock.h: socket-level load balancing on cgroup sock_addr hooks.
 *
 * connect (TCP, connected UDP) and sendmsg (unconnected UDP) rewrite a
 * frontend to a backend before the kernel routes anything; each translation
 * records (socket cookie, backend) -> frontend in lb_sk_revnat, which
 * recvmsg and getpeername use to show the frontend instead of the backend.
 */
#ifndef WEIR_SOCK_H
#define WEIR_SOCK_H

#include "select.h"

#define XLATE_NONE 0
#define XLATE_DONE 1
#define XLATE_REFUSE 2

static __always_inline void sk_revnat_put(struct bpf_sock_addr *ctx, const struct backend *be,
					  const struct svc_key *fk, __u32 rev_nat_id)
{
	struct sk_rev_key k = {};
	struct sk_rev_val v = {};
	struct sk_rev_val *old;

	k.cookie = bpf_get_socket_cookie(ctx);
	addr_copy(k.addr, be->addr);
	k.port = be->port;
	old = bpf_map_lookup_elem(&lb_sk_revnat, &k);
	if (old && old->rev_nat_id == rev_nat_id && old->port == fk->port &&
	    addr_eq(old->addr, fk->addr))
		return;
	addr_copy(v.addr, fk->addr);
	v.port = fk->port;
	v.rev_nat_id = rev_nat_id;
	bpf_map_update_elem(&lb_sk_revnat, &k, &v, BPF_ANY);
}

/* sock_fwd translates addr:port in place when it is a frontend. */
static __always_inline int sock_fwd(struct bpf_sock_addr *ctx, __u32 *addr, __be16 *port)
{
	struct svc_key fk = {};
	struct aff_key ak = {};
	struct backend *be;
	struct svc_val *svc;
	__u64 netns;
	__u32 id = 0;

	addr_copy(fk.addr, (__u8 *)addr);
	fk.port = *port;
	fk.proto = (__u8)ctx->protocol;
	svc = bpf_map_lookup_elem(&lb_services, &fk);
	if (!svc)
		return XLATE_NONE;

	netns = bpf_get_netns_cookie(ctx);
	addr_w(ak.client)[0] = (__u32)netns;
	addr_w(ak.client)[1] = (__u32)(netns >> 32);
	ak.kind = AFF_NETNS_COOKIE;
	be = select_backend(&fk, svc, bpf_get_prandom_u32(), 0, &ak, &id);
	if (!be) {
		count_no_backend(svc->svc_id);
		return XLATE_REFUSE;
	}
	sk_revnat_put(ctx, be, &fk, svc->rev_nat_id);
	count_flow(svc->svc_id);
	addr_copy((__u8 *)addr, be->addr);
	*port = be->port;
	return XLATE_DONE;
}

/* sock_rev shows the frontend for a backend address the socket talked to. */
static __always_inline int sock_rev(struct bpf_sock_addr *ctx, __u32 *addr, __be16 *port)
{
	struct sk_rev_key k = {};
	struct sk_rev_val *v;
	struct rev_nat *rn;

	k.cookie = bpf_get_socket_cookie(ctx);
	addr_copy(k.addr, (__u8 *)addr);
	k.port = *port;
	v = bpf_map_lookup_elem(&lb_sk_revnat, &k);
	if (!v)
		return XLATE_NONE;
	rn = bpf_map_lookup_elem(&lb_revnat, &v->rev_nat_id);
	if (!rn || rn->port != v->port || !addr_eq(rn->addr, v->addr))
		return XLATE_NONE; /* the frontend is gone */
	addr_copy((__u8 *)addr, v->addr);
	*port = v->port;
	return XLATE_DONE;
}

/*
 * sock_refuse rejects the connect or sendmsg: ECONNREFUSED where
 * bpf_set_retval exists (>= 5.18; the loader sets have_set_retval, and the
 * verifier prunes the call on older kernels), EPERM before.
 */
static __always_inline int sock_refuse(void)
{
	if (have_set_retval)
		bpf_set_retval(-ECONNREFUSED);
	return 0;
}

static __always_inline int sock4_fwd(struct bpf_sock_addr *ctx)
{
	__u32 addr[4];
	__be16 port = (__be16)ctx->user_port;
	int r;

	addr_set_v4((__u8 *)addr, ctx->user_ip4);
	r = sock_fwd(ctx, addr, &port);
	if (r == XLATE_REFUSE)
		return sock_refuse();
	if (r == XLATE_DONE) {
		ctx->user_ip4 = addr[3];
		ctx->user_port = port;
	}
	return 1;
}

static __always_inline int sock6_fwd(struct bpf_sock_addr *ctx)
{
	__u32 addr[4];
	__be16 port = (__be16)ctx->user_port;
	int r;

	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
	r = sock_fwd(ctx, addr, &port);
	if (r == XLATE_REFUSE)
		return sock_refuse();
	if (r == XLATE_DONE) {
		ctx->user_ip6[0] = addr[0];
		ctx->user_ip6[1] = addr[1];
		ctx->user_ip6[2] = addr[2];
		ctx->user_ip6[3] = addr[3];
		ctx->user_port = port;
	}
	return 1;
}

static __always_inline int sock4_rev(struct bpf_sock_addr *ctx)
{
	__u32 addr[4];
	__be16 port = (__be16)ctx->user_port;

	addr_set_v4((__u8 *)addr, ctx->user_ip4);
	if (sock_rev(ctx, addr, &port) == XLATE_DONE) {
		ctx->user_ip4 = addr[3];
		ctx->user_port = port;
	}
	return 1;
}

static __always_inline int sock6_rev(struct bpf_sock_addr *ctx)
{
	__u32 addr[4];
	__be16 port = (__be16)ctx->user_port;

	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
	if (sock_rev(ctx, addr, &port) == XLATE_DONE) {
		ctx->user_ip6[0] = addr[0];
		ctx->user_ip6[1] = addr[1];
		ctx->user_ip6[2] = addr[2];
		ctx->user_ip6[3] = addr[3];
		ctx->user_port = port;
	}
	return 1;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	return sock4_fwd(ctx);
}

SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock4_fwd(ctx);
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	return sock4_rev(ctx);
}

SEC("cgroup/getpeername4")
int sock4_getpeername(struct bpf_sock_addr *ctx)
{
	return sock4_rev(ctx);
}

SEC("cgroup/connect6")
int sock6_connect(struct bpf_sock_addr *ctx)
{
	return sock6_fwd(ctx);
}

SEC("cgroup/sendmsg6")
int sock6_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock6_fwd(ctx);
}

SEC("cgroup/recvmsg6")
int sock6_recvmsg(struct bpf_sock_addr *ctx)
{
	return sock6_rev(ctx);
}

SEC("cgroup/getpeername6")
int sock6_getpeername(struct bpf_sock_addr *ctx)
{
	return sock6_rev(ctx);
}

#endif
