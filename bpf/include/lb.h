/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lb.h: the map layouts of weir's service load balancer. Go mirrors these
 * structs through bpf2go -type (dataplane/lb_bpfel.go); change both together.
 *
 * Addresses are always 16 bytes: IPv6, or IPv4-mapped (::ffff:a.b.c.d), so
 * one map serves both families and a dual-stack socket connecting to
 * ::ffff:VIP finds the IPv4 service. Ports are in network byte order.
 */
#ifndef WEIR_LB_H
#define WEIR_LB_H

#include <linux/types.h>

/* Frontend flags (svc_val.flags of the master entry). */
#define SVC_F_CLUSTERIP 0x1
#define SVC_F_EXTERNAL 0x2 /* externalIPs and load-balancer IPs */
#define SVC_F_NODEPORT 0x4

/* backend.flags */
#define BACKEND_F_TERMINATING 0x1

/* aff_key.kind */
#define AFF_CLIENT_IP 1    /* per-packet path: the client's address */
#define AFF_NETNS_COOKIE 2 /* socket path: the client's network namespace */

/* ct_key.dir */
#define CT_FWD 1 /* client -> frontend, as it arrives */
#define CT_REV 2 /* backend -> client (or -> SNAT address), the reply */

/* ct_val.flags */
#define CT_F_SNAT 0x1    /* source rewritten to snat_addr:snat_port */
#define CT_F_CLOSING 0x2 /* FIN or RST seen */

/*
 * lb_services: one master entry (slot 0) per frontend, then slots
 * 1..count (ready backends) and count+1..count+term_count (terminating).
 */
struct svc_key {
	__u8 addr[16];
	__be16 port;
	__u8 proto;
	__u8 pad;
	__u16 slot;
	__u16 pad2;
};

struct svc_val {
	__u32 backend_id;       /* slots */
	__u32 svc_id;           /* master: service group (counters, affinity, Maglev) */
	__u32 rev_nat_id;       /* master: lb_revnat entry of this frontend */
	__u32 affinity_timeout; /* master: seconds; 0 = no session affinity */
	__u16 count;            /* master: ready backends */
	__u16 term_count;       /* master: terminating backends */
	__u16 flags;            /* master: SVC_F_* */
	__u16 pad;
};

/* lb_backends: backend id -> address. Ids are per service group. */
struct backend {
	__u8 addr[16];
	__be16 port;
	__u8 proto;
	__u8 flags;
	__u32 svc_id; /* owning group, read back on adoption */
};

/* lb_revnat: reverse-NAT id -> the frontend replies must come from. */
struct rev_nat {
	__u8 addr[16];
	__be16 port;
	__u16 pad;
	__u32 svc_id;
};

/* lb_sk_revnat: (socket, backend) -> frontend, for recvmsg and getpeername. */
struct sk_rev_key {
	__u64 cookie;
	__u8 addr[16];
	__be16 port;
	__u8 pad[6];
};

struct sk_rev_val {
	__u8 addr[16];
	__be16 port;
	__u16 pad;
	__u32 rev_nat_id;
};

/* lb_affinity: (group, client) -> backend, sessionAffinity ClientIP. */
struct aff_key {
	__u8 client[16];
	__u32 svc_id;
	__u32 kind;
};

struct aff_val {
	__u64 last_used_ns;
	__u32 backend_id;
	__u32 pad;
};

/* lb_ct: per-packet conntrack (LRU), two entries per flow. */
struct ct_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir;
	__u16 pad;
};

struct ct_val {
	__u8 addr[16];      /* FWD: backend; REV with CT_F_SNAT: client (new destination) */
	__u8 snat_addr[16]; /* FWD with CT_F_SNAT: new source */
	__be16 port;        /* FWD: backend port; REV with CT_F_SNAT: client port */
	__be16 snat_port;
	__u32 backend_id;
	__u32 rev_nat_id;
	__u32 svc_id;
	__u64 expires_ns;
	__u16 flags;
	__u16 pad[3];
};

/* lb_stats: per-CPU counters per service group (index svc_id). */
struct svc_stats {
	__u64 flows;      /* connections and datagrams translated, new tc flows */
	__u64 packets;    /* packets through the per-packet path */
	__u64 bytes;      /* bytes through the per-packet path */
	__u64 no_backend; /* refused or dropped: no backend */
};

/* lb_names: service group id -> "namespace/name:port/PROTO/v4" (display, adoption). */
struct svc_name {
	char name[128];
};

#endif
