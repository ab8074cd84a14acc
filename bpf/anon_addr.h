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

/* The same tunnel origin (address, port, type; pad is always zero)? */
TSPGW_INLINE int tspgw_origin_eq(const struct tspgw_origin *a, const struct tspgw_origin *b)
{
	return a->addr == b->addr && a->port == b->port && a->type == b->type;
}

/* Word i (0-3) of a 16-byte address, as it lies in memory (network
 * order). Addresses are compared a 32-bit word at a time, not a byte at a
 * time: a source check compares up to three of them per packet, and byte
 * by byte with masks that was about 400 BPF instructions. In the BPF
 * programs it is one load: the addresses they compare lie in the packet,
 * in a map value or in a stack struct aligned to 4, and the verifier
 * allows unaligned packet and map-value loads where the architecture does
 * (x86-64, arm64). In userspace a memcpy, which assumes no alignment. */
TSPGW_INLINE __u32 tspgw_addr_word(const __u8 *a, int i)
{
#ifdef __VMLINUX_H__
	return ((const __u32 *)(const void *)a)[i];
#else
	__u32 w;

	__builtin_memcpy(&w, a + 4 * i, 4);
	return w;
#endif
}

/* Copy a 16-byte address to to (4-aligned in the BPF programs: a stack
 * key) a word at a time; __builtin_memcpy from a byte pointer copies byte
 * by byte in BPF. */
TSPGW_INLINE void tspgw_addr_copy(__u8 *to, const __u8 *from)
{
#ifdef __VMLINUX_H__
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < 4; i++)
		((__u32 *)(void *)to)[i] = tspgw_addr_word(from, i);
#else
	__builtin_memcpy(to, from, 16);
#endif
}

/* The first bits (any number: <= 0 none, >= 32 all) of a word, as a mask
 * in network order, to AND with tspgw_addr_word values. */
TSPGW_INLINE __u32 tspgw_word_mask(int bits)
{
	__u32 m = bits >= 32 ? 0xffffffffU : bits <= 0 ? 0 : 0xffffffffU << (32 - bits);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(m);
#else
	return m;
#endif
}

/* Do the first 8 bytes of addr equal the anonymous prefix? No early exit,
 * so the code is straight (see tspgw_prefix_contains). */
TSPGW_INLINE int tspgw_anon_in_prefix(const __u8 *addr, const __u8 *prefix)
{
	return ((tspgw_addr_word(addr, 0) ^ tspgw_addr_word(prefix, 0)) |
		(tspgw_addr_word(addr, 1) ^ tspgw_addr_word(prefix, 1))) == 0;
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

/* Is addr inside prefix/len? Each 32-bit word is compared under its mask,
 * with no early exit: the loop unrolls to four loads at constant offsets,
 * as the verifier demands of loaders without CAP_PERFMON (no map value or
 * packet pointer plus a variable index), and a constant len (128) folds
 * the masks away. */
TSPGW_INLINE int tspgw_prefix_contains(const __u8 *addr, const __u8 *prefix,
				       __u8 len)
{
	__u32 diff = 0;

	if (len > 128)
		return 0;
#ifdef __clang__
#pragma unroll
#endif
	for (int i = 0; i < 4; i++)
		diff |= (tspgw_addr_word(addr, i) ^ tspgw_addr_word(prefix, i)) &
			tspgw_word_mask((int)len - 32 * i);
	return diff == 0;
}

#endif /* TSPGW_ANON_ADDR_H */
