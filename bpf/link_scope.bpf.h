/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Link scope stays in the tunnel (README "Security"). A tunnel is a link of
 * its own: what a client sends into it may be routed on, but never act on
 * the gateway's other links. So a decapsulated packet is refused when
 *  - its source or destination only means something on one link
 *    (tspgw_ipv6_link_scope: link-local, multicast, unspecified, loopback,
 *    IPv4-mapped, site-local), or
 *  - it is a message of the link itself, whatever its addresses: Neighbor
 *    Discovery (RS, RA, NS, NA, Redirect; Inverse ND; SEND), MLD (queries,
 *    v1 and v2 reports, done) and Multicast Router Discovery. ND never
 *    crosses a router, so a global address on one proves nothing.
 * The upper-layer header is found behind Hop-by-Hop, Routing and
 * Destination Options headers (MLD always carries a Hop-by-Hop Router
 * Alert). A chain longer than TSPGW_EXT_MAX cannot be checked and is
 * refused too: no legitimate packet carries one. A fragment header ends
 * the walk: the kernel drops fragmented ND and MLD (RFC 6980).
 *
 * The check is shared by the XDP fast path and the tc ingress program (the
 * last stop before a decapsulated packet reaches the kernel), each reading
 * the packet its own way, and its pure part (link_scope.h) by the daemon's
 * slow path for reassembled fragments.
 */
#ifndef TSPGW_LINK_SCOPE_BPF_H
#define TSPGW_LINK_SCOPE_BPF_H

#include "bpf/bpf_consts.h"

/* The packet as the shared walk (link_scope.h) reads it. */
struct tspgw_ls_src {
	void *ctx;
	int is_skb; /* a constant at every call: each program keeps only its own helper */
};

#include "bpf/link_scope.h"

/* Bytes at a variable offset: the helpers accept one where a packet
 * pointer may not move by a variable without CAP_PERFMON. */
static __always_inline long tspgw_ls_load(const struct tspgw_ls_src *s, __u32 off, void *buf,
					  __u32 len)
{
	if (s->is_skb)
		return bpf_skb_load_bytes(s->ctx, off, buf, len);
	return bpf_xdp_load_bytes(s->ctx, off, buf, len);
}

/* Must this decapsulated packet stay in its tunnel? ip6 points at its
 * (bounds-checked) IPv6 header; icmp_type is the byte after it when
 * nexthdr is ICMPv6 and that byte is in the packet, else 0; ip6_off is the
 * header's offset for the load helpers. */
static __always_inline int link_scope_refused(void *ctx, int is_skb, const struct ipv6hdr *ip6,
					      __u32 ip6_off, __u8 icmp_type)
{
	struct tspgw_ls_src s = { .ctx = ctx, .is_skb = is_skb };

	return tspgw_link_scope_refused(&s, ip6_off, (const __u8 *)&ip6->saddr,
					(const __u8 *)&ip6->daddr, ip6->nexthdr, icmp_type);
}

#endif
