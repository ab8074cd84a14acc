/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internet checksum helpers (RFC 1071, RFC 1624) for headers we write. */
#ifndef TSPGW_CSUM_H
#define TSPGW_CSUM_H

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Checksum of an option-less IPv4 header; iph->check must be zero. Five
 * 32-bit loads summed in 64 bits, then folded: cheaper than bpf_csum_diff
 * for 20 bytes, and half the loads and adds of ten 16-bit words. The
 * header is in the packet (unaligned loads are allowed there) or in a
 * 4-aligned stack struct. */
static __always_inline __u16 csum_ipv4_hdr(const struct iphdr *iph)
{
	const __u32 *w = (const __u32 *)(const void *)iph;
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < IPV4_HLEN / 4; i++)
		sum += w[i];
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return csum_fold32((__u32)sum);
}

/* Incremental update (RFC 1624 eqn. 3) when one 16-bit word changes from
 * old to new (both in network order, as stored). */
static __always_inline void csum_replace2(__u16 *check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~*check;

	sum += (__u16)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*check = (__u16)~sum;
}

#endif
