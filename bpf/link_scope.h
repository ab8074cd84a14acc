/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The link-scope rule as pure functions (README "Security"; the reasons are
 * in link_scope.bpf.h): which ICMPv6 messages belong to one link, and the
 * walk over extension headers to the upper layer. Shared by the BPF
 * programs (XDP and tc, reading the packet through helpers) and the
 * daemon's slow path for reassembled fragments (dataplane/slowpath_check.c,
 * reading a packet in memory), so every path refuses exactly the same
 * packets.
 *
 * Each includer says how bytes are read: it defines struct tspgw_ls_src
 * and tspgw_ls_load (declared below) in the same translation unit.
 */
#ifndef TSPGW_LINK_SCOPE_H
#define TSPGW_LINK_SCOPE_H

#include "bpf/special_addr.h"

/* IPv6 next-header values (netinet/in.h's names are not visible to BPF,
 * vmlinux.h's enum is not visible to userspace). */
#define TSPGW_NH_HOPOPTS 0
#define TSPGW_NH_ROUTING 43
#define TSPGW_NH_ICMPV6 58
#define TSPGW_NH_DSTOPTS 60
/* Extension headers the walk follows; a longer chain is refused. */
#define TSPGW_EXT_MAX 8

/* ICMPv6 types 128..159 that belong to one link, as bits (type - 128):
 * 130-132 MLD query/report/done, 133-137 RS/RA/NS/NA/Redirect, 141-142
 * Inverse ND, 143 MLDv2 report, 148-149 SEND certification path, 151-153
 * Multicast Router Discovery. */
#define TSPGW_ICMP6_LINK_TYPES                                                          \
	((1U << 2) | (1U << 3) | (1U << 4) | (1U << 5) | (1U << 6) | (1U << 7) | (1U << 8) | \
	 (1U << 9) | (1U << 13) | (1U << 14) | (1U << 15) | (1U << 20) | (1U << 21) |       \
	 (1U << 23) | (1U << 24) | (1U << 25))

/* Where the bytes come from: a BPF context, or a buffer in memory. */
struct tspgw_ls_src;

/* Copy len bytes at offset off of the packet into buf: 0, or non-zero
 * when they are not all in the packet. Defined by the includer. */
TSPGW_INLINE long tspgw_ls_load(const struct tspgw_ls_src *s, __u32 off, void *buf, __u32 len);

TSPGW_INLINE int tspgw_icmp6_link_type(__u8 type)
{
	return type >= 128 && type < 160 && (TSPGW_ICMP6_LINK_TYPES >> (type - 128)) & 1;
}

TSPGW_INLINE int tspgw_ipv6_ext_hdr(__u8 nexthdr)
{
	return nexthdr == TSPGW_NH_HOPOPTS || nexthdr == TSPGW_NH_ROUTING ||
	       nexthdr == TSPGW_NH_DSTOPTS;
}

/* Walk the extension headers starting at off (the first one is of type
 * nexthdr) to the upper layer: 1 if it is a link-scope ICMPv6 message or
 * the chain is too long to tell. A fragment header, like any other
 * upper layer, ends the walk. */
TSPGW_INLINE int tspgw_link_scope_ext(const struct tspgw_ls_src *s, __u32 off, __u8 nexthdr)
{
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < TSPGW_EXT_MAX; i++) {
		__u8 h[2];

		if (tspgw_ls_load(s, off, h, sizeof(h)))
			return 0; /* truncated: the kernel drops it */
		nexthdr = h[0];
		off += ((__u32)h[1] + 1) * 8;
		if (nexthdr == TSPGW_NH_ICMPV6) {
			__u8 type;

			if (tspgw_ls_load(s, off, &type, 1))
				return 0;
			return tspgw_icmp6_link_type(type);
		}
		if (!tspgw_ipv6_ext_hdr(nexthdr))
			return 0;
	}
	return 1;
}

/* Must this decapsulated packet stay in its tunnel? saddr, daddr: its
 * addresses (16 bytes each); nexthdr: its IPv6 header's; icmp_type: the
 * byte after the IPv6 header when nexthdr is ICMPv6 and that byte is in the
 * packet, else 0 (the caller has it at hand already); ip6_off: the IPv6
 * header's offset for tspgw_ls_load. */
TSPGW_INLINE int tspgw_link_scope_refused(const struct tspgw_ls_src *s, __u32 ip6_off,
					  const __u8 *saddr, const __u8 *daddr, __u8 nexthdr,
					  __u8 icmp_type)
{
	if (tspgw_ipv6_link_scope(saddr) || tspgw_ipv6_link_scope(daddr))
		return 1;
	if (nexthdr == TSPGW_NH_ICMPV6)
		return tspgw_icmp6_link_type(icmp_type);
	if (tspgw_ipv6_ext_hdr(nexthdr))
		return tspgw_link_scope_ext(s, ip6_off + 40, nexthdr);
	return 0;
}

#endif /* TSPGW_LINK_SCOPE_H */
