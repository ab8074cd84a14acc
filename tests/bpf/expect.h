/* SPDX-License-Identifier: BSD-2-Clause */
/* Expected packets, built independently of the program under test. */
#ifndef TSPGW_TEST_EXPECT_H
#define TSPGW_TEST_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "tests/bpf/bpf_fixture.h"
#include "tests/bpf/pkt_build.h"

/* The decapsulated frame: in's Ethernet addresses with type 0x86DD, then
 * the inner IPv6 packet (40 + payload_len bytes) exactly as it was inside.
 * hop_delta is subtracted from the hop limit (0 when handed to the kernel). */
size_t expect_decap(const struct pkt *in, uint8_t *out, int hop_delta);
/* Same, with the Ethernet addresses replaced (forwarded by XDP). */
size_t expect_decap_fwd(const struct pkt *in, uint8_t *out, const uint8_t dmac[6],
			const uint8_t smac[6]);

/* The encapsulated frame the gateway sends to origin: Ethernet dmac/smac
 * type 0x0800, IPv4 (ver 4, ihl 5, tos 0, tot_len, id 0, DF, ttl 64,
 * proto 17/41, checksum, T_GW4 -> origin), for v6udpv4 UDP (T_TSP_PORT ->
 * origin port, length, checksum 0), then the inner IPv6 packet (inner
 * bytes, inner_len of them) with its hop limit lowered by hop_delta. */
size_t expect_encap(const uint8_t *inner, size_t inner_len, const struct tspgw_origin *o,
		    const uint8_t dmac[6], const uint8_t smac[6], int hop_delta, uint8_t *out);

/* Field-by-field checks with precise messages, for outputs built by the
 * program (used alongside the byte comparison). */
void check_outer_ipv4(const uint8_t *iph, uint8_t proto, uint32_t saddr, uint32_t daddr,
		      size_t tot_len);
void check_outer_udp(const uint8_t *udp, uint16_t sport, uint16_t dport, size_t len);

uint16_t t_rd16(const uint8_t *p);
uint32_t t_rd32(const uint8_t *p);

#endif
