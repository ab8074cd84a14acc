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
 * the packet its own way.
 */
#ifndef TSPGW_LINK_SCOPE_BPF_H
#define TSPGW_LINK_SCOPE_BPF_H

#include "bpf_consts.h"
#include "special_addr.h"

#define IPPROTO_HOPOPTS_NR 0
#define IPPROTO_ROUTING_NR 43
#define IPPROTO_DSTOPTS_NR 60
#define TSPGW_EXT_MAX 8

/* ICMPv6 types 128..159 that belong to one link, as bits (type - 128):
 * 130-132 MLD query/report/done, 133-137 RS/RA/NS/NA/Redirect, 141-142
 * Inverse ND, 143 MLDv2 report, 148-149 SEND certification path, 151-153
 * Multicast Router Discovery. */
#define TSPGW_ICMP6_LINK_TYPES                                                          \
	((1U << 2) | (1U << 3) | (1U << 4) | (1U << 5) | (1U << 6) | (1U << 7) | (1U << 8) | \
	 (1U << 9) | (1U << 13) | (1U << 14) | (1U << 15) | (1U << 20) | (1U << 21) |       \
	 (1U << 23) | (1U << 24) | (1U << 25))

static __always_inline int icmp6_link_type(__u8 type)
{
	return type >= 128 && type < 160 && (TSPGW_ICMP6_LINK_TYPES >> (type - 128)) & 1;
}

static __always_inline int ipv6_ext_hdr(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS_NR || nexthdr == IPPROTO_ROUTING_NR ||
	       nexthdr == IPPROTO_DSTOPTS_NR;
}

/* Bytes at a variable offset: the helpers accept one where a packet
 * pointer may not move by a variable without CAP_PERFMON. is_skb is a
 * constant at every call, so each program keeps only its own helper. */
static __always_inline long ls_load(void *ctx, int is_skb, __u32 off, void *buf, __u32 len)
{
	if (is_skb)
		return bpf_skb_load_bytes(ctx, off, buf, len);
	return bpf_xdp_load_bytes(ctx, off, buf, len);
}

/* Walk the extension headers starting at off (the first one is of type
 * nexthdr) to the upper layer: 1 if it is a link-scope ICMPv6 message or
 * the chain is too long to tell. Only packets with extension headers come
 * here. */
static __always_inline int link_scope_ext(void *ctx, int is_skb, __u32 off, __u8 nexthdr)
{
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < TSPGW_EXT_MAX; i++) {
		__u8 h[2];

		if (ls_load(ctx, is_skb, off, h, sizeof(h)))
			return 0; /* truncated: the kernel drops it */
		nexthdr = h[0];
		off += ((__u32)h[1] + 1) * 8;
		if (nexthdr == IPPROTO_ICMPV6_NR) {
			__u8 type;

			if (ls_load(ctx, is_skb, off, &type, 1))
				return 0;
			return icmp6_link_type(type);
		}
		if (!ipv6_ext_hdr(nexthdr))
			return 0;
	}
	return 1;
}

/* Must this decapsulated packet stay in its tunnel? ip6 points at its
 * (bounds-checked) IPv6 header; icmp_type is the byte after it when
 * nexthdr is ICMPv6 and that byte is in the packet, else 0; ip6_off is the
 * header's offset for ls_load. */
static __always_inline int link_scope_refused(void *ctx, int is_skb, const struct ipv6hdr *ip6,
					      __u32 ip6_off, __u8 icmp_type)
{
	if (tspgw_ipv6_link_scope((const __u8 *)&ip6->saddr) ||
	    tspgw_ipv6_link_scope((const __u8 *)&ip6->daddr))
		return 1;
	if (ip6->nexthdr == IPPROTO_ICMPV6_NR)
		return icmp6_link_type(icmp_type);
	if (ipv6_ext_hdr(ip6->nexthdr))
		return link_scope_ext(ctx, is_skb, ip6_off + IPV6_HLEN, ip6->nexthdr);
	return 0;
}

#endif
