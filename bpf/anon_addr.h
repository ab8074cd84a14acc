/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Anonymous addresses that carry their own IPv4 origin (addressing.md).
 * Pure functions on byte arrays, shared verbatim by the XDP/tc programs (to
 * check and to route) and by userspace (to hand out addresses), so both
 * sides can never disagree on the layout.
 *
 * Layouts, bytes 0-7 = the anonymous /64 prefix:
 *   pubtsp: 8-11 IPv4, 12-13 UDP port, 14-15 local field (not checked)
 *   6bed4:  8 = IPv4[0] & 0xfc, 9-11 = IPv4[1..3], 12-13 port,
 *           14 = (IPv4[0] & 3) << 6 | lan >> 8, 15 = lan & 0xff (14-bit lan)
 * v6v4 tunnels have no port: its field is zero, and a zero port means v6v4.
 */
#ifndef TSPGW_ANON_ADDR_H
#define TSPGW_ANON_ADDR_H

#include "bpf/tspgw_maps.h"

#ifdef __VMLINUX_H__
#define TSPGW_INLINE static __always_inline
#else
#define TSPGW_INLINE static inline
#endif

/* Do the first 8 bytes of addr equal the anonymous prefix? No early exit,
 * so the loop unrolls to constant offsets (see tspgw_prefix_contains). */
TSPGW_INLINE int tspgw_anon_in_prefix(const __u8 *addr, const __u8 *prefix)
{
	__u8 diff = 0;

#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < 8; i++)
		diff |= (__u8)(addr[i] ^ prefix[i]);
	return diff == 0;
}

/* Write the address for origin (ipv4, port; network order) into out[16].
 * lan numbers hosts behind the client: 16 bits in pubtsp, 14 bits in 6bed4. */
TSPGW_INLINE void tspgw_anon_embed(__u8 *out, const __u8 *prefix, __u8 layout,
				   __u32 ipv4, __u16 port, __u16 lan)
{
	const __u8 *ip = (const __u8 *)&ipv4;
	const __u8 *pt = (const __u8 *)&port;

	for (int i = 0; i < 8; i++)
		out[i] = prefix[i];
	out[9] = ip[1];
	out[10] = ip[2];
	out[11] = ip[3];
	out[12] = pt[0];
	out[13] = pt[1];
	if (layout == TSPGW_LAYOUT_6BED4) {
		out[8] = ip[0] & 0xfc;
		out[14] = (__u8)(((ip[0] & 0x03) << 6) | ((lan >> 8) & 0x3f));
		out[15] = (__u8)(lan & 0xff);
	} else {
		out[8] = ip[0];
		out[14] = (__u8)(lan >> 8);
		out[15] = (__u8)(lan & 0xff);
	}
}

/* Read the embedded origin (network order) back from an anonymous address.
 * The caller has checked the prefix. */
TSPGW_INLINE void tspgw_anon_extract(const __u8 *addr, __u8 layout,
				     __u32 *ipv4, __u16 *port)
{
	__u8 *ip = (__u8 *)ipv4;
	__u8 *pt = (__u8 *)port;

	if (layout == TSPGW_LAYOUT_6BED4)
		ip[0] = (__u8)((addr[8] & 0xfc) | (addr[14] >> 6));
	else
		ip[0] = addr[8];
	ip[1] = addr[9];
	ip[2] = addr[10];
	ip[3] = addr[11];
	pt[0] = addr[12];
	pt[1] = addr[13];
}

/* Does an anonymous address belong to this origin? For v6v4 (port 0) the
 * embedded port must be zero too, so the reverse direction, which reads the
 * encapsulation from the address, sends protocol 41 back. */
TSPGW_INLINE int tspgw_anon_matches(const __u8 *addr, const __u8 *prefix,
				    __u8 layout, __u32 ipv4, __u16 port)
{
	__u32 a = 0;
	__u16 p = 0;

	if (!tspgw_anon_in_prefix(addr, prefix))
		return 0;
	if (layout == TSPGW_LAYOUT_6BED4 && (addr[8] & 0x03))
		return 0; /* u/g bits set: not a 6bed4 address */
	tspgw_anon_extract(addr, layout, &a, &p);
	return a == ipv4 && p == port;
}

/* Is addr inside prefix/len? Every byte is compared under its mask, with
 * no early exit: the loop unrolls to constant offsets, as the verifier
 * demands of loaders without CAP_PERFMON (no map value or packet pointer
 * plus a variable index). */
TSPGW_INLINE int tspgw_prefix_contains(const __u8 *addr, const __u8 *prefix,
				       __u8 len)
{
	__u8 diff = 0;

	if (len > 128)
		return 0;
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < 16; i++) {
		int bits = (int)len - i * 8;
		__u8 mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));

		diff |= (__u8)((addr[i] ^ prefix[i]) & mask);
	}
	return diff == 0;
}

#endif /* TSPGW_ANON_ADDR_H */
