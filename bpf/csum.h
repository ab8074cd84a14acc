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

/* Checksum of an option-less IPv4 header; iph->check must be zero. Ten
 * 16-bit loads, unrolled: cheaper than bpf_csum_diff for 20 bytes. */
static __always_inline __u16 csum_ipv4_hdr(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < IPV4_HLEN / 2; i++)
		sum += w[i];
	return csum_fold32(sum);
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
