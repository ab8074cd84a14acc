/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Tunnel logic shared by the XDP fast path and the tc slow path: who may
 * send what (anti-spoofing), where an IPv6 destination's tunnel ends, and
 * the outer headers that carry a packet there. Nothing here touches a
 * packet, so both program types call the very same code. */
#ifndef TSPGW_TUNNEL_BPF_H
#define TSPGW_TUNNEL_BPF_H

#include "bpf/anon_addr.h"
#include "bpf/bpf_consts.h"
#include "bpf/csum.h"
#include "bpf/maps.bpf.h"
#include "bpf/special_addr.h"
#include "bpf/src_check.h"

/* Is src the tunnel's host address or in its delegated prefix? */
static __always_inline int tunnel_owns(const struct tspgw_tunnel *t, const __u8 *src)
{
	if (tspgw_prefix_contains(src, t->host, 128))
		return 1;
	return t->prefix_len && tspgw_prefix_contains(src, t->prefix, t->prefix_len);
}

/* A packet from origin with an inner source of the pending claim there
 * (claims map) proves the claim: it becomes the origin's binding, replacing
 * the tunnel that held it, and leaves the claims map. Returns the new
 * binding, or NULL when there is no such claim. The broker sees the claim
 * gone and the binding its own, and moves the routes over. */
static __always_inline struct tspgw_tunnel *prove_claim(const struct tspgw_origin *origin,
							const __u8 *src)
{
	struct tspgw_tunnel *c = bpf_map_lookup_elem(&claims, origin);
	struct tspgw_tunnel rec;

	if (!c || !tunnel_owns(c, src))
		return NULL;
	__builtin_memcpy(&rec, c, sizeof(rec));
	rec.flags &= ~(TSPGW_TUNNEL_F_CLAIMED | TSPGW_TUNNEL_F_CLAIM_WAITING);
	__builtin_memset(&rec.stats, 0, sizeof(rec.stats));
	if (bpf_map_update_elem(&bindings, origin, &rec, BPF_ANY))
		return NULL;
	bpf_map_delete_elem(&claims, origin);
	count(TSPGW_CNT_CLAIM_PROVEN);
	return bpf_map_lookup_elem(&bindings, origin);
}

/* Does the inner source belong to the origin it arrived from? src points
 * at 16 bounds-checked bytes (packet or stack). *tun is the binding, if any.
 * The decision itself is src_check.h's, shared with the slow path, with
 * one addition only the data plane makes: a packet from a claimed origin
 * (TSPGW_TUNNEL_F_CLAIMED) whose source is the tunnel's own proves the
 * claim: the flag is cleared and encapsulation towards the origin starts.
 * The claims map is looked at only for a source the binding does not own,
 * and only when the binding is marked TSPGW_TUNNEL_F_CLAIM_WAITING, so a
 * proven tunnel's own traffic costs nothing more, nor does spoofing from
 * an origin no claim waits on. */
static __always_inline enum src_verdict
check_inner_source(const struct tspgw_dp_config *cfg, const struct tspgw_origin *origin,
		   const __u8 *src, struct tspgw_tunnel **tun)
{
	struct tspgw_tunnel *t, *c;
	enum src_verdict v;

	*tun = NULL;
	if (HARDENED(tspgw_endpoint_refused(cfg, origin)))
		return SRC_REFUSED;
	t = bpf_map_lookup_elem(&bindings, origin);
	*tun = t;
	if (!t)
		return tspgw_source_verdict(cfg, origin, src, NULL);
	if (tunnel_owns(t, src)) {
		/* A plain read-modify-write: two CPUs proving at once both
		 * clear the same bit (and may both count it). */
		if (HARDENED(t->flags & TSPGW_TUNNEL_F_CLAIMED)) {
			t->flags &= ~TSPGW_TUNNEL_F_CLAIMED;
			count(TSPGW_CNT_CLAIM_PROVEN);
		}
		return SRC_OK;
	}
	/* Not the binding's host or prefix: OK only as an anonymous address
	 * of this origin (what tspgw_source_verdict decides with a binding
	 * whose host and prefix do not match, without comparing them again).
	 * An anonymous tunnel's own address space needs no claim; otherwise a
	 * pending claim may own it, when the binding says one may wait. */
	v = tspgw_anon_source(cfg, origin, src) ? SRC_OK : SRC_SPOOF;
	if (v == SRC_OK && (t->flags & TSPGW_TUNNEL_F_ANON))
		return SRC_OK;
	c = HARDENED(t->flags & TSPGW_TUNNEL_F_CLAIM_WAITING) ? prove_claim(origin, src) : NULL;
	if (c) {
		*tun = c;
		return SRC_OK;
	}
	return v;
}

enum dst_verdict {
	DST_NOT_TUNNEL = 0, /* not ours: route it like any IPv6 packet */
	DST_TUNNEL,         /* *origin says where to send it */
	DST_DEAD,           /* inside the anonymous prefix, but no live tunnel */
	DST_REFUSED,        /* the tunnel would end at a refused endpoint (tspgw_endpoint_refused) */
	DST_UNPROVEN,       /* the tunnel's origin is claimed and not yet proven */
};

/* The binding of the origin a destination resolved to, checked: a claimed
 * origin not yet proven receives nothing. *tun: the binding (for its
 * stats), NULL when there is none (a public-mode anonymous address).
 * Encapsulation calls it after the next hop is known, not before: the
 * binding lookup early in the path cost encap about 45 ns in section 1 of
 * `make bench` (repeat=1 runs), in the same place it costs nothing. */
static __always_inline enum dst_verdict tunnel_checked(const struct tspgw_origin *origin,
						       struct tspgw_tunnel **tun)
{
	struct tspgw_tunnel *t = bpf_map_lookup_elem(&bindings, origin);

	*tun = t;
	if (HARDENED(t && (t->flags & TSPGW_TUNNEL_F_CLAIMED)))
		return DST_UNPROVEN;
	return DST_TUNNEL;
}

/* Where does the tunnel for this IPv6 destination end? dst: 16 bytes.
 * DST_TUNNEL says that *origin is the tunnel's endpoint; the caller then
 * checks the binding with tunnel_checked. An anonymous address's endpoint
 * (anyone can write one) is checked here; a route's only when
 * check_routed: the broker and the CLI refused it when they made the
 * route, and XDP re-checks it where it looks the next hop up instead
 * (xdp_encap: a next-hop cache entry is only made for an endpoint that
 * passed, and every change of the allowed ranges or of the gateway's own
 * addresses invalidates the cache). */
static __always_inline enum dst_verdict
resolve_tunnel(const struct tspgw_dp_config *cfg, const __u8 *dst, struct tspgw_origin *origin,
	       int check_routed)
{
	struct tspgw_route_key key = { .prefixlen = 128 };
	struct tspgw_origin *o;

	/* Host /128s first, exact: the longest match there can be, so the
	 * trie (delegated prefixes) is asked only when no host matches. */
	tspgw_addr_copy(key.addr, dst);
	o = bpf_map_lookup_elem(&host_routes, key.addr);
	if (!o)
		o = bpf_map_lookup_elem(&routes, &key);
	if (o) {
		*origin = *o;
		/* Defensive: the allowed ranges may have been narrowed, or
		 * the gateway given the address, since the route was made. */
		if (check_routed && HARDENED(tspgw_endpoint_refused(cfg, origin)))
			return DST_REFUSED;
		return DST_TUNNEL;
	}
	if (!(cfg->flags & TSPGW_CFG_F_ANON) || !tspgw_anon_in_prefix(dst, cfg->anon_prefix))
		return DST_NOT_TUNNEL;

	/* Stateless: the address itself names the outer endpoint. */
	origin->addr = 0;
	origin->port = 0;
	origin->pad = 0;
	tspgw_anon_extract(dst, cfg->anon_layout, &origin->addr, &origin->port);
	origin->type = origin->port ? TSPGW_TUN_V6UDPV4 : TSPGW_TUN_V6V4;
	if (cfg->anon_layout == TSPGW_LAYOUT_6BED4 && (dst[8] & 0x03))
		return DST_DEAD;
	/* Anyone can write any address into the anonymous prefix: this is
	 * what keeps the gateway from relaying to 127.0.0.1, broadcasts,
	 * private networks behind it or itself. */
	if (HARDENED(tspgw_endpoint_refused(cfg, origin)))
		return DST_REFUSED;
	/* Outside public mode an anonymous address lives only while its
	 * tunnel does (its binding is looked up again, checked, by the
	 * caller: this mode pays two lookups, public mode and routed
	 * tunnels one). */
	if (!(cfg->flags & TSPGW_CFG_F_PUBLIC) && !bpf_map_lookup_elem(&bindings, origin))
		return DST_DEAD;
	return DST_TUNNEL;
}

static __always_inline __u16 tunnel_mtu(const struct tspgw_dp_config *cfg, __u8 type)
{
	/* Both read, then chosen: clang would otherwise pick the field's
	 * address with a variable offset, which the verifier refuses on a
	 * map value without CAP_PERFMON. */
	__u16 v6v4 = *(volatile const __u16 *)&cfg->mtu_v6v4;
	__u16 v6udpv4 = *(volatile const __u16 *)&cfg->mtu_v6udpv4;

	return type == TSPGW_TUN_V6V4 ? v6v4 : v6udpv4;
}

/* Outer headers after the Ethernet header, as one block so XDP and tc write
 * them with one copy. For v6v4 only .ip is used. */
struct outer_hdrs {
	struct iphdr ip;
	struct udphdr udp;
};
_Static_assert(sizeof(struct outer_hdrs) == IPV4_HLEN + UDP_HLEN, "outer headers must be contiguous");

/* Fill the outer headers for an inner IPv6 packet of inner_len bytes.
 * Returns how many bytes of struct outer_hdrs are used (20 or 28). */
static __always_inline __u32 build_outer(struct outer_hdrs *h, const struct tspgw_dp_config *cfg,
					 const struct tspgw_origin *origin, __u16 inner_len)
{
	__u32 olen = origin->type == TSPGW_TUN_V6V4 ? IPV4_HLEN : IPV4_HLEN + UDP_HLEN;

	h->ip.version = 4;
	h->ip.ihl = 5;
	h->ip.tos = 0;
	h->ip.tot_len = bpf_htons((__u16)(olen + inner_len));
	/* DF with ID 0 (RFC 6864): inner packets are already held to the
	 * tunnel MTU, so the outer packet never needs fragmenting. */
	h->ip.id = 0;
	h->ip.frag_off = bpf_htons(IP_DF);
	h->ip.ttl = TSPGW_OUTER_TTL;
	h->ip.protocol = origin->type == TSPGW_TUN_V6V4 ? IPPROTO_IPV6_NR : IPPROTO_UDP_NR;
	h->ip.check = 0;
	h->ip.saddr = cfg->gw_ipv4;
	h->ip.daddr = origin->addr;
	h->ip.check = csum_ipv4_hdr(&h->ip);
	/* Source port = the TSP port: the client's NAT mapping was made by
	 * signalling to that port, so replies must come from it. UDP checksum
	 * 0 is allowed over IPv4 (RFC 768); the inner packet has its own. */
	h->udp.source = cfg->tsp_port;
	h->udp.dest = origin->port;
	h->udp.len = bpf_htons((__u16)(UDP_HLEN + inner_len));
	h->udp.check = 0;
	return olen;
}

/* Per-tunnel stats live in the binding. What comes from the tunnel (rx,
 * drops) is counted with plain adds: a tunnel's packets all come from one
 * outer address and port, which a NIC's receive-side scaling hashes to one
 * queue, so one CPU at a time writes them (XDP runs on the queue's CPU). An
 * atomic add waits for the CPU's pending stores and cost decap about a
 * tenth of its time; where two CPUs did race (the daemon's slow path for
 * fragments, a queue moved to another CPU), an increment can be lost, never
 * invented, as the slow path already allows (tunnel_table_count_rx). What
 * goes to the tunnel (tx) comes from anywhere on the IPv6 side, on every
 * CPU: atomic adds. last_seen is a plain store: two CPUs racing write
 * nearly the same time and either will do. t may be NULL (public mode
 * without a binding: such a tunnel has no stats). */
/* CLOCK_BOOTTIME in ns, to one tick: from jiffies (bpf_jiffies64 costs
 * about 1 ns) and the loader's sample of both clocks (dp_config), or from
 * the 26-ns helper where no sample was taken. */
static __always_inline __u64 now_boot_ns(const struct tspgw_dp_config *cfg)
{
	__u64 per = cfg->clock_ns_per_jiffy;

	if (!per)
		return bpf_ktime_get_boot_ns();
	return cfg->clock_base_ns + (bpf_jiffies64() - cfg->clock_base_jiffies) * per;
}

static __always_inline void stats_rx(const struct tspgw_dp_config *cfg, struct tspgw_tunnel *t,
				     __u32 bytes)
{
	if (t) {
		t->stats.last_seen = TSPGW_NS_TO_TICK(now_boot_ns(cfg));
		t->stats.rx_packets += 1;
		t->stats.rx_bytes += bytes;
	}
}

/* Saturating, not wrapping (TSPGW_DROPS_SATURATED); a plain add like rx
 * (above): should CPUs race, each adds at most one past the check, which
 * the headroom above the mark holds. */
static __always_inline void stats_drop(struct tspgw_tunnel *t)
{
	if (t && t->stats.drops < TSPGW_DROPS_SATURATED)
		t->stats.drops += 1;
}

/* t: the binding tunnel_checked found (it looks it up anyway, to refuse
 * unproven claims), or NULL. */
static __always_inline void stats_tx(struct tspgw_tunnel *t, __u32 bytes)
{
	if (t) {
		__sync_fetch_and_add(&t->stats.tx_packets, 1);
		__sync_fetch_and_add(&t->stats.tx_bytes, bytes);
	}
}

#endif
