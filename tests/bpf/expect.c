// SPDX-License-Identifier: BSD-2-Clause
#include "tests/bpf/expect.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

uint16_t t_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t t_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t expect_decap_fwd(const struct pkt *in, uint8_t *out, const uint8_t dmac[6],
			const uint8_t smac[6])
{
	size_t inner_len;

	cr_assert(in->ip6 >= 0);
	inner_len = 40 + t_rd16(in->data + in->ip6 + 4);
	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	out[12] = 0x86;
	out[13] = 0xdd;
	memcpy(out + 14, in->data + in->ip6, inner_len);
	return 14 + inner_len;
}

size_t expect_decap(const struct pkt *in, uint8_t *out, int hop_delta)
{
	size_t n = expect_decap_fwd(in, out, in->data, in->data + 6);

	out[14 + 7] = (uint8_t)(out[14 + 7] - hop_delta);
	return n;
}

size_t expect_encap(const uint8_t *inner, size_t inner_len, const struct tspgw_origin *o,
		    const uint8_t dmac[6], const uint8_t smac[6], int hop_delta, uint8_t *out)
{
	int udp = o->type == TSPGW_TUN_V6UDPV4;
	size_t olen = udp ? 28 : 20;
	uint8_t *iph = out + 14;
	uint32_t gw = t_ip4(T_GW4);

	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	out[12] = 0x08;
	out[13] = 0x00;
	memset(iph, 0, olen);
	iph[0] = 0x45;
	iph[2] = (uint8_t)((olen + inner_len) >> 8);
	iph[3] = (uint8_t)(olen + inner_len);
	iph[6] = 0x40; /* DF */
	iph[8] = 64;
	iph[9] = udp ? 17 : 41;
	memcpy(iph + 12, &gw, 4);
	memcpy(iph + 16, &o->addr, 4);
	{
		uint16_t c = ip4_hdr_csum(iph);

		iph[10] = (uint8_t)(c >> 8);
		iph[11] = (uint8_t)c;
	}
	if (udp) {
		uint8_t *u = iph + 20;
		uint16_t sport = T_TSP_PORT, ulen = (uint16_t)(8 + inner_len);

		u[0] = (uint8_t)(sport >> 8);
		u[1] = (uint8_t)sport;
		memcpy(u + 2, &o->port, 2);
		u[4] = (uint8_t)(ulen >> 8);
		u[5] = (uint8_t)ulen;
	}
	memcpy(out + 14 + olen, inner, inner_len);
	out[14 + olen + 7] = (uint8_t)(out[14 + olen + 7] - hop_delta);
	return 14 + olen + inner_len;
}

void check_outer_ipv4(const uint8_t *iph, uint8_t proto, uint32_t saddr, uint32_t daddr,
		      size_t tot_len)
{
	cr_expect_eq(iph[0] >> 4, 4, "outer version %u", iph[0] >> 4);
	cr_expect_eq(iph[0] & 0xf, 5, "outer ihl %u", iph[0] & 0xf);
	cr_expect_eq(t_rd16(iph + 2), tot_len, "outer tot_len %u, want %zu", t_rd16(iph + 2), tot_len);
	cr_expect_eq(t_rd16(iph + 6), 0x4000, "outer frag_off %#x, want DF only", t_rd16(iph + 6));
	cr_expect_eq(iph[8], 64, "outer ttl %u", iph[8]);
	cr_expect_eq(iph[9], proto, "outer protocol %u, want %u", iph[9], proto);
	cr_expect(ip4_hdr_csum_ok(iph), "outer IPv4 header checksum %#06x is wrong (want %#06x)",
		  t_rd16(iph + 10), ip4_hdr_csum(iph));
	cr_expect(memcmp(iph + 12, &saddr, 4) == 0, "outer saddr %u.%u.%u.%u", iph[12], iph[13],
		  iph[14], iph[15]);
	cr_expect(memcmp(iph + 16, &daddr, 4) == 0, "outer daddr %u.%u.%u.%u", iph[16], iph[17],
		  iph[18], iph[19]);
}

void check_outer_udp(const uint8_t *udp, uint16_t sport, uint16_t dport, size_t len)
{
	cr_expect_eq(t_rd16(udp), sport, "outer UDP sport %u, want %u", t_rd16(udp), sport);
	cr_expect_eq(t_rd16(udp + 2), dport, "outer UDP dport %u, want %u", t_rd16(udp + 2), dport);
	cr_expect_eq(t_rd16(udp + 4), len, "outer UDP length %u, want %zu", t_rd16(udp + 4), len);
	cr_expect_eq(t_rd16(udp + 6), 0, "outer UDP checksum %#x, want 0", t_rd16(udp + 6));
}
