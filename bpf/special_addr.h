/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Special-purpose addresses (RFC 6890's registries; README "Security"),
 * as pure functions on network-order values, shared by the BPF programs
 * and userspace (broker, CLI, config) so every path refuses the same set.
 *
 * IPv4: some ranges are never a tunnel endpoint, whatever the operator says
 * (loopback, this-network 0/8, link-local, multicast, limited broadcast:
 * sending there would reach the gateway itself or a whole link). Others are
 * refused by default and allowed by class (data_plane.allowed_special_ranges):
 * labs, private deployments and tests use them on purpose.
 *
 * IPv6: addresses that only mean something on one link (link-local,
 * multicast, unspecified, loopback, IPv4-mapped, the deprecated site-local)
 * never cross the gateway out of a tunnel.
 */
#ifndef TSPGW_SPECIAL_ADDR_H
#define TSPGW_SPECIAL_ADDR_H

#include "bpf/tspgw_maps.h"

#ifndef TSPGW_INLINE
#ifdef __VMLINUX_H__
#define TSPGW_INLINE static __always_inline
#else
#define TSPGW_INLINE static inline
#endif
#endif

/* Classes of special-purpose IPv4 ranges (bits of an allow mask). */
#define TSPGW_V4_ALWAYS 0x01U        /* 0/8, 127/8, 169.254/16, 224/4, 255.255.255.255 */
#define TSPGW_V4_PRIVATE 0x02U       /* 10/8, 172.16/12, 192.168/16 (RFC 1918) */
#define TSPGW_V4_SHARED 0x04U        /* 100.64/10 (carrier-grade NAT, RFC 6598) */
#define TSPGW_V4_DOCUMENTATION 0x08U /* 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737) */
#define TSPGW_V4_BENCHMARKING 0x10U  /* 198.18/15 (RFC 2544) */
#define TSPGW_V4_IETF 0x20U          /* 192.0.0/24 (IETF protocol assignments) */
#define TSPGW_V4_RESERVED 0x40U      /* 240/4 less the limited broadcast */
/* The classes an operator may allow; TSPGW_V4_ALWAYS is not one of them. */
#define TSPGW_V4_ALLOWABLE                                                               \
	(TSPGW_V4_PRIVATE | TSPGW_V4_SHARED | TSPGW_V4_DOCUMENTATION | TSPGW_V4_BENCHMARKING | \
	 TSPGW_V4_IETF | TSPGW_V4_RESERVED)

/* Which special class does addr (network order) fall in? 0 = none: an
 * ordinary global unicast address. Compares bytes, so it reads the same
 * on either byte order. */
TSPGW_INLINE __u32 tspgw_ipv4_special_class(__u32 addr)
{
	const __u8 *b = (const __u8 *)&addr;

	if (b[0] == 0 || b[0] == 127 || (b[0] >= 224 && b[0] <= 239))
		return TSPGW_V4_ALWAYS;
	if (b[0] == 169 && b[1] == 254)
		return TSPGW_V4_ALWAYS;
	if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
		return TSPGW_V4_ALWAYS;
	if (b[0] >= 240)
		return TSPGW_V4_RESERVED;
	if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168))
		return TSPGW_V4_PRIVATE;
	if (b[0] == 100 && (b[1] & 0xc0) == 64)
		return TSPGW_V4_SHARED;
	if ((b[0] == 192 && b[1] == 0 && b[2] == 2) || (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
	    (b[0] == 203 && b[1] == 0 && b[2] == 113))
		return TSPGW_V4_DOCUMENTATION;
	if (b[0] == 198 && (b[1] & 0xfe) == 18)
		return TSPGW_V4_BENCHMARKING;
	if (b[0] == 192 && b[1] == 0 && b[2] == 0)
		return TSPGW_V4_IETF;
	return 0;
}

/* May tunnel traffic be sent to / accepted from addr, given the classes
 * the operator allowed (allow: TSPGW_V4_* bits)? The gateway's own
 * addresses are checked separately: they are not a fixed range. */
TSPGW_INLINE int tspgw_ipv4_refused(__u32 addr, __u32 allow)
{
	__u32 cls = tspgw_ipv4_special_class(addr);

	return cls && (cls == TSPGW_V4_ALWAYS || !(cls & allow));
}

/* Is this IPv6 address (16 bytes) meaningful on one link only, or no
 * address at all? fe80::/10 link-local, fec0::/10 site-local (deprecated,
 * RFC 3879), ff00::/8 multicast, ::/128, ::1/128, ::ffff:0:0/96. */
TSPGW_INLINE int tspgw_ipv6_link_scope(const __u8 *a)
{
	__u8 zero = 0;

	if (a[0] == 0xff)
		return 1;
	if (a[0] == 0xfe && (a[1] & 0x80) == 0x80) /* fe80::/10 and fec0::/10 */
		return 1;
	if (a[0] != 0)
		return 0;
	/* ::/128, ::1/128 and ::ffff:0:0/96 all start with 80 zero bits. */
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < 10; i++)
		zero |= a[i];
	if (zero)
		return 0;
	if (a[10] == 0xff && a[11] == 0xff)
		return 1;
	if (a[10] | a[11] | a[12] | a[13] | a[14])
		return 0;
	return a[15] <= 1;
}

#endif /* TSPGW_SPECIAL_ADDR_H */
